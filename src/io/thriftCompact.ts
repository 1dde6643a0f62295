/**
 * Just enough of a Thrift compact-protocol writer for Parquet page headers and footers (see
 * parquetFooter.ts for the reading side): structs of i32/i64/binary/list/struct fields.
 */

// Compact protocol type ids.
export const T = { I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

/** One field of a struct: [id, type, value]; a STRUCT's value is its own fields, a LIST's is [element type, elements]. */
export type Field = [number, number, FieldValue];
export type FieldValue = number | string | Field[] | [number, FieldValue[]];

export class CompactWriter {
  private bytes: number[] = [];

  varint(v: number): void {
    // Numbers here stay below 2^53 (file offsets, row counts): no BigInt needed.
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }

  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  binary(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    for (const x of b) this.bytes.push(x);
  }

  value(type: number, v: FieldValue): void {
    if (type === T.I32 || type === T.I64) this.zigzag(v as number);
    else if (type === T.BINARY) this.binary(v as string);
    else if (type === T.STRUCT) this.struct(v as Field[]);
    else if (type === T.LIST) {
      const [elem, items] = v as [number, FieldValue[]];
      if (items.length < 15) this.bytes.push((items.length << 4) | elem);
      else {
        this.bytes.push(0xf0 | elem);
        this.varint(items.length);
      }
      for (const item of items) this.value(elem, item);
    } else throw new Error(`thrift compact: type ${type} not supported`);
  }

  /** Fields in increasing id order. */
  struct(fields: Field[]): void {
    let last = 0;
    for (const [id, type, v] of fields) {
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
      else {
        this.bytes.push(type);
        this.zigzag(id);
      }
      this.value(type, v);
      last = id;
    }
    this.bytes.push(0);
  }

  finish(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** A struct serialised on its own (a page header, the file footer). */
export function compactStruct(fields: Field[]): Buffer {
  const w = new CompactWriter();
  w.struct(fields);
  return w.finish();
}
