/**
 * The bytes JSON's structure is made of, for the byte-level line readers (embedLine.ts, lineFields.ts).
 * Readers copy them into module-scope consts: under tsx an imported binding is a getter call per use.
 */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
