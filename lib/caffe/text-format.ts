// The protobuf text format as Caffe writes it: a tokenizer and a parser into a generic tree that keeps the line:column of every field.

import { PrototxtError, type TextPosition } from './errors.js';

/** A scalar value as written: `kind` says how, `value` is the decoded number or string. */
export interface TextScalar extends TextPosition {
  kind: 'number' | 'string' | 'identifier';
  /** The source text (for strings: the decoded text, for the others: the token as written). */
  text: string;
  value: number | string;
}

/** A `{ ... }` block. The position is that of the opening brace. */
export interface TextMessage extends TextPosition {
  kind: 'message';
  fields: TextField[];
}

export type TextValue = TextScalar | TextMessage;

/** One `name: value` or `name { ... }`. The position is that of the field name. */
export interface TextField extends TextPosition {
  name: string;
  value: TextValue;
}

/** The whole file: its top-level fields, positioned at 1:1. */
export type TextDocument = TextMessage;

export interface TextParseOptions {
  /** The file name used in error messages. */
  file?: string;
}

/** The name used in messages when the text did not come from a file. */
export const UNNAMED_FILE = '<prototxt>';

type TokenKind = 'identifier' | 'number' | 'string' | 'symbol' | 'end';

interface Token extends TextPosition {
  kind: TokenKind;
  text: string;
  /** Decoded content of a string token. */
  value: string;
}

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)/y;
const NUMBER_TAIL = /[A-Za-z0-9_.]/;
const SYMBOLS = new Set([':', '{', '}', '<', '>', '[', ']', ',', ';']);
const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?',
};

/** Splits prototxt text into tokens, tracking line and column (both 1-based). */
class Tokenizer {
  private offset = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string, private readonly file: string) {}

  next(): Token {
    this.skipSpaceAndComments();
    const position = this.position();
    if (this.offset >= this.text.length) return { ...position, kind: 'end', text: '', value: '' };
    const character = this.text[this.offset]!;
    if (character === '"' || character === "'") return this.readString(position, character);
    if (character === '-' || character === '.' || isDigit(character)) {
      const negativeWord = this.readNegativeWord(position);
      if (negativeWord !== undefined) return negativeWord;
      return this.readNumber(position);
    }
    const word = this.match(IDENTIFIER);
    if (word !== undefined) return { ...position, kind: 'identifier', text: word, value: word };
    if (SYMBOLS.has(character)) {
      this.offset++;
      return { ...position, kind: 'symbol', text: character, value: character };
    }
    throw this.error(position, `unexpected character '${character}'`);
  }

  private position(): TextPosition {
    return { line: this.line, column: this.offset - this.lineStart + 1 };
  }

  private skipSpaceAndComments(): void {
    while (this.offset < this.text.length) {
      const character = this.text[this.offset]!;
      if (character === '\n') {
        this.offset++;
        this.line++;
        this.lineStart = this.offset;
      } else if (character === ' ' || character === '\t' || character === '\r' || character === '\f' || character === '\v') {
        this.offset++;
      } else if (character === '#') {
        while (this.offset < this.text.length && this.text[this.offset] !== '\n') this.offset++;
      } else {
        return;
      }
    }
  }

  private match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.offset;
    const found = pattern.exec(this.text);
    if (found === null) return undefined;
    this.offset += found[0].length;
    return found[0];
  }

  /** `-inf`, `-nan`, `-infinity`: a minus sign directly followed by a word. */
  private readNegativeWord(position: TextPosition): Token | undefined {
    if (this.text[this.offset] !== '-') return undefined;
    IDENTIFIER.lastIndex = this.offset + 1;
    const found = IDENTIFIER.exec(this.text);
    if (found === null) return undefined;
    this.offset += 1 + found[0].length;
    const text = `-${found[0]}`;
    return { ...position, kind: 'identifier', text, value: text };
  }

  private readNumber(position: TextPosition): Token {
    const text = this.match(NUMBER);
    if (text === undefined) throw this.error(position, `unexpected character '${this.text[this.offset]}'`);
    if (this.offset < this.text.length && NUMBER_TAIL.test(this.text[this.offset]!)) {
      let end = this.offset;
      while (end < this.text.length && NUMBER_TAIL.test(this.text[end]!)) end++;
      throw this.error(position, `invalid number '${this.text.slice(this.offset - text.length, end)}'`);
    }
    return { ...position, kind: 'number', text, value: text };
  }

  private readString(position: TextPosition, quote: string): Token {
    const start = this.offset;
    this.offset++;
    let value = '';
    for (;;) {
      const character = this.text[this.offset];
      if (character === undefined || character === '\n') {
        throw this.error(position, `unterminated string: no closing ${quote} on the same line`);
      }
      this.offset++;
      if (character === quote) break;
      value += character === '\\' ? this.readEscape() : character;
    }
    return { ...position, kind: 'string', text: this.text.slice(start, this.offset), value };
  }

  /** The character(s) after a backslash: C escapes, \xHH, \ooo (octal), \uHHHH. */
  private readEscape(): string {
    const escapePosition = { line: this.line, column: this.offset - this.lineStart };
    const character = this.text[this.offset];
    if (character === undefined || character === '\n') {
      throw this.error(escapePosition, 'unterminated string: it ends with a backslash');
    }
    this.offset++;
    const simple = SIMPLE_ESCAPES[character];
    if (simple !== undefined) return simple;
    const digits = this.readEscapeDigits(character);
    if (digits !== undefined) return digits;
    throw this.error(escapePosition, `invalid escape sequence '\\${character}' in string`);
  }

  private readEscapeDigits(character: string): string | undefined {
    if (/[0-7]/.test(character)) {
      let octal = character;
      while (octal.length < 3 && /[0-7]/.test(this.text[this.offset] ?? '')) octal += this.text[this.offset++];
      return String.fromCharCode(parseInt(octal, 8));
    }
    const hexLength = character === 'x' || character === 'X' ? 2 : character === 'u' ? 4 : 0;
    if (hexLength === 0) return undefined;
    const pattern = hexLength === 2 ? /[0-9a-fA-F]{1,2}/y : /[0-9a-fA-F]{4}/y;
    const hex = this.match(pattern);
    return hex === undefined ? undefined : String.fromCharCode(parseInt(hex, 16));
  }

  error(position: TextPosition, reason: string): PrototxtError {
    return new PrototxtError('PROTOTXT_SYNTAX', this.file, position, reason);
  }
}

function isDigit(character: string): boolean {
  return character >= '0' && character <= '9';
}

function describeToken(token: Token): string {
  if (token.kind === 'end') return 'the end of the file';
  return token.kind === 'string' ? token.text : `'${token.text}'`;
}

const CLOSING: Record<string, string> = { '{': '}', '<': '>' };

/** The deepest nesting of messages read, as protobuf's own text parser (its default recursion limit). */
export const MAX_NESTING_DEPTH = 100;

/** Recursive-descent parser over the tokens; one token of lookahead. */
class Parser {
  private readonly tokens: Tokenizer;
  private current: Token;
  /** Messages open around the current token. */
  private depth = 0;

  constructor(text: string, private readonly file: string) {
    this.tokens = new Tokenizer(text, file);
    this.current = this.tokens.next();
  }

  parseDocument(): TextDocument {
    const fields = this.parseFields(undefined);
    return { kind: 'message', fields, line: 1, column: 1 };
  }

  private advance(): Token {
    const token = this.current;
    this.current = this.tokens.next();
    return token;
  }

  private isSymbol(symbol: string): boolean {
    return this.current.kind === 'symbol' && this.current.text === symbol;
  }

  /** Fields up to the closing symbol (or the end of the file at top level). */
  private parseFields(open: { token: Token; owner: string } | undefined): TextField[] {
    const fields: TextField[] = [];
    const closing = open === undefined ? undefined : CLOSING[open.token.text];
    for (;;) {
      if (this.current.kind === 'end') {
        if (open === undefined) return fields;
        throw this.tokens.error(open.token,
          `unterminated message '${open.owner}': this '${open.token.text}' has no matching '${closing}' before the end of the file`);
      }
      if (closing !== undefined && this.isSymbol(closing)) {
        this.advance();
        return fields;
      }
      fields.push(...this.parseField());
      if (this.isSymbol(',') || this.isSymbol(';')) this.advance();
    }
  }

  /** One field, or several when written with the list syntax. */
  private parseField(): TextField[] {
    const nameToken = this.current;
    if (nameToken.kind !== 'identifier') {
      const reason = nameToken.kind === 'symbol' && (nameToken.text === '}' || nameToken.text === '>')
        ? `unexpected '${nameToken.text}': there is no open '{' to close`
        : `expected a field name but found ${describeToken(nameToken)}`;
      throw this.tokens.error(nameToken, reason);
    }
    this.advance();
    const name = nameToken.text;
    let value: TextValue;
    if (this.isSymbol(':')) {
      this.advance();
      if (this.isSymbol('[')) return this.parseList(nameToken);
      value = this.isSymbol('{') || this.isSymbol('<') ? this.parseMessage(name) : this.parseScalar(name);
    } else if (this.isSymbol('{') || this.isSymbol('<')) {
      value = this.parseMessage(name);
    } else {
      throw this.tokens.error(this.current,
        `expected ':' or '{' after field name '${name}' but found ${describeToken(this.current)}`);
    }
    return [{ name, line: nameToken.line, column: nameToken.column, value }];
  }

  private parseMessage(owner: string): TextMessage {
    const open = this.advance();
    if (this.depth >= MAX_NESTING_DEPTH) {
      throw this.tokens.error(open, `message '${owner}' is nested more than ${MAX_NESTING_DEPTH} levels deep`);
    }
    this.depth++;
    const fields = this.parseFields({ token: open, owner });
    this.depth--;
    return { kind: 'message', fields, line: open.line, column: open.column };
  }

  private parseScalar(owner: string): TextScalar {
    const token = this.current;
    if (token.kind === 'string') return this.parseStrings();
    if (token.kind === 'number' || token.kind === 'identifier') {
      this.advance();
      const value = token.kind === 'number' ? parseNumber(token.text) : token.text;
      return { kind: token.kind, text: token.text, value, line: token.line, column: token.column };
    }
    throw this.tokens.error(token, `expected a value for '${owner}' but found ${describeToken(token)}`);
  }

  /** Adjacent string literals are concatenated, as in C and in protobuf. */
  private parseStrings(): TextScalar {
    const first = this.current;
    let value = '';
    while (this.current.kind === 'string') value += this.advance().value;
    return { kind: 'string', text: value, value, line: first.line, column: first.column };
  }

  /** `name: [a, b, c]` is shorthand for `name: a name: b name: c`. */
  private parseList(nameToken: Token): TextField[] {
    const open = this.advance();
    const items: TextField[] = [];
    while (!this.isSymbol(']')) {
      if (this.current.kind === 'end') {
        throw this.tokens.error(open, `unterminated list '${nameToken.text}': this '[' has no matching ']' before the end of the file`);
      }
      if (items.length > 0) this.expectSymbol(',', `',' or ']' in the list '${nameToken.text}'`);
      const value = this.isSymbol('{') || this.isSymbol('<') ? this.parseMessage(nameToken.text) : this.parseScalar(nameToken.text);
      items.push({ name: nameToken.text, line: value.line, column: value.column, value });
    }
    this.advance();
    return items;
  }

  private expectSymbol(symbol: string, what: string): void {
    if (!this.isSymbol(symbol)) throw this.tokens.error(this.current, `expected ${what} but found ${describeToken(this.current)}`);
    this.advance();
  }
}

/** The numeric value of a number token: decimal, hexadecimal, with an optional `f` suffix. */
function parseNumber(text: string): number {
  const negative = text.startsWith('-');
  const magnitude = negative ? text.slice(1) : text;
  const value = /^0[xX]/.test(magnitude) ? parseInt(magnitude.slice(2), 16) : Number(magnitude.replace(/[fF]$/, ''));
  return negative ? -value : value;
}

/** Whether a number token is written as an integer (no point, exponent or `f` suffix). */
export function isIntegerText(text: string): boolean {
  return /^-?(?:0[xX][0-9a-fA-F]+|\d+)$/.test(text);
}

/**
 * Parses prototxt text into a tree of fields, each with its line and column. `name: [a, b]` lists
 * are expanded into repeated fields. Throws PrototxtError (code PROTOTXT_SYNTAX).
 */
export function parseTextFormat(text: string, options: TextParseOptions = {}): TextDocument {
  const parser = new Parser(text, options.file ?? UNNAMED_FILE);
  return parser.parseDocument();
}
