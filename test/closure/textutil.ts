// A plain user module imported by functions shipped in the test/closure tests (not a test itself).
export function shout(s: string): string {
  return `${s.toUpperCase()}!`;
}
export default function twice(x: number): number {
  return x * 2;
}
export const version = 'fx-1';
