/** Schema pieces shared by every channel. */
import { z } from '../common/zod.js';

export const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected bytes' });
export const wireError = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
});

/** Builds a parse function for a channel from its discriminated-union schema. */
export function parser<T>(schema: z.ZodType<T>): (body: unknown) => T {
  return (body: unknown) => {
    const r = schema.safeParse(body);
    if (!r.success) {
      const issue = r.error.issues[0];
      const type = (body as { type?: unknown } | null)?.type;
      throw new Error(
        `${String(type ?? 'message')}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
      );
    }
    return r.data;
  };
}
