/** Renders docs/configuration.md from the key registry (conf-keys.ts); scripts/gen-config-docs.mjs writes it. */
import { CONF_KEYS, CONF_PREFIXES, type ConfKey } from './conf-keys.js';

const TYPES: Record<ConfKey['type'], string> = {
  int: 'integer',
  ms: 'milliseconds',
  bool: 'true/false',
  size: 'size (512m, 1g, bytes)',
  memory: 'memory (512m, 2g; bare number = MiB)',
  string: 'string',
  enum: 'one of',
};

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function configurationMarkdown(): string {
  const rows = CONF_KEYS.map(
    (k) =>
      `| \`${k.key}\` | ${k.type === 'enum' ? `one of ${k.values!.map((v) => `\`${v}\``).join(', ')}` : TYPES[k.type]} | ${k.default === undefined ? '–' : `\`${k.default}\``} | ${cell(k.doc)} | ${k.since} |`,
  );
  const prefixes = CONF_PREFIXES.map((p) => `| \`${p.prefix}NAME\` | string | – | ${cell(p.doc)} | ${p.since} |`);
  return `${[
    '# Configuration',
    '',
    '<!-- Generated from src/common/conf-keys.ts by `node scripts/gen-config-docs.mjs`; do not edit by hand. -->',
    '',
    'Set keys with `cinder submit --conf KEY=VALUE` (several times), in a properties file (`--properties-file`, or',
    '`$CINDER_CONF_DIR/cinder-defaults.conf`, default `~/.cinder`), or in code with',
    '`CinderContext.getOrCreate({ conf: { KEY: VALUE } })`. A `cinder.*` key that is not listed here is refused on',
    'the command line (with the closest known key) and warned about elsewhere; a value of the wrong type is refused.',
    '',
    '| key | type | default | meaning | since |',
    '|---|---|---|---|---|',
    ...rows,
    ...prefixes,
  ].join('\n')}\n`;
}
