// args.ts — command-line flags: "--name value", "--name=value", booleans, numbers checked, unknown flags with "did you mean".
import { CudnetError, closestName } from '../errors.js';

export type FlagType = 'string' | 'number' | 'integer' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  description: string;
  /** Shown in the help; the parsed value when the flag is absent. */
  default?: string | number | boolean;
  /** Placeholder in the help, e.g. "<folder>". */
  value?: string;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  /** For numbers: the smallest allowed value, and whether it is excluded. */
  min?: number;
  exclusiveMin?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type ParsedFlags = Record<string, string | number | boolean | undefined>;

/** A usage error: the CLI prints the message and the command's usage, and exits with status 2. */
export class UsageError extends CudnetError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

/** Parses argv against the specs; returns flags (defaults applied), positionals and whether help was asked. */
export function parseFlags(argv: readonly string[], specs: FlagSpecs): { flags: ParsedFlags; positionals: string[]; help: boolean } {
  const flags: ParsedFlags = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i]!;
    if (argument === '-h' || argument === '--help') help = true;
    else if (argument === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    else if (argument.startsWith('--')) i = readFlag(argv, i, specs, flags);
    else if (argument.startsWith('-') && argument.length > 1 && !/^-\d/.test(argument))
      throw new UsageError(`Unknown option ${argument}; options are written --name (see --help)`);
    else positionals.push(argument);
  }
  for (const [name, spec] of Object.entries(specs)) if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  return { flags, positionals, help };
}

/** Reads the flag at argv[index] (and its value); returns the index of the last argument used. */
function readFlag(argv: readonly string[], index: number, specs: FlagSpecs, flags: ParsedFlags): number {
  const argument = argv[index]!;
  const equals = argument.indexOf('=');
  const name = argument.slice(2, equals >= 0 ? equals : undefined);
  const negated = name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean';
  const key = negated ? name.slice(3) : name;
  const spec = specs[key];
  if (!spec) {
    const suggestion = closestName(name, Object.keys(specs));
    throw new UsageError(`Unknown option --${name}${suggestion ? `; did you mean --${suggestion}?` : ''}`);
  }
  if (spec.type === 'boolean') {
    flags[key] = negated ? false : equals >= 0 ? parseBoolean(key, argument.slice(equals + 1)) : true;
    return index;
  }
  let text = equals >= 0 ? argument.slice(equals + 1) : argv[index + 1];
  if (text === undefined || (equals < 0 && text.startsWith('--')))
    throw new UsageError(`Option --${key} needs a value${spec.value ? ` ${spec.value}` : ''}`);
  flags[key] = convert(key, spec, text);
  return equals >= 0 ? index : index + 1;
}

function parseBoolean(name: string, text: string): boolean {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new UsageError(`Expected true or false for --${name} but received ${JSON.stringify(text)}`);
}

function convert(name: string, spec: FlagSpec, text: string): string | number {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(text)) {
      const suggestion = closestName(text, spec.choices);
      throw new UsageError(`Expected one of ${spec.choices.join(', ')} for --${name} but received ${JSON.stringify(text)}` +
        (suggestion ? `; did you mean ${suggestion}?` : ''));
    }
    return text;
  }
  const value = Number(text);
  const what = spec.type === 'integer' ? 'an integer' : 'a number';
  if (text.trim() === '' || !Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value)))
    throw new UsageError(`Expected ${what} for --${name} but received ${JSON.stringify(text)}`);
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min))
    throw new UsageError(`Expected ${what} ${spec.exclusiveMin ? '>' : '>='} ${spec.min} for --${name} but received ${text}`);
  return value;
}

/** The options part of a command's help text, one aligned line per flag. */
export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `  --${name}${spec.type === 'boolean' ? '' : ` ${spec.value ?? `<${spec.type}>`}`}`;
    const fallback = spec.default !== undefined && spec.type !== 'boolean' ? ` (default ${spec.default})` : '';
    return [left, `${spec.description}${fallback}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => left.padEnd(width) + right).join('\n');
}
