/**
 * The ha_msg data model (spec 1.1): an ordered list of typed fields.
 * Lookup returns the first field of a name; `mod` replaces it in place or
 * appends, exactly as heartbeat's ha_msg_mod, because field order decides the
 * classic authentication digest.
 */
export const FieldType = {
  STRING: 0,
  BINARY: 1,
  STRUCT: 2,
  LIST: 3,
  COMPRESS: 4,
} as const;
export type FieldTypeCode = (typeof FieldType)[keyof typeof FieldType];

export type Field =
  | { name: string; type: 0; value: string }
  | { name: string; type: 1; value: Buffer }
  | { name: string; type: 2; value: HaMsg }
  | { name: string; type: 3; value: string[] }
  | { name: string; type: 4; value: Buffer };

export class HaMsg {
  readonly fields: Field[] = [];

  static of(pairs: Record<string, string>): HaMsg {
    const m = new HaMsg();
    for (const [k, v] of Object.entries(pairs)) m.add(k, v);
    return m;
  }

  get size(): number {
    return this.fields.length;
  }

  /** First string value of `name`, or undefined (also for non-string fields). */
  get(name: string): string | undefined {
    const f = this.fields.find((x) => x.name === name);
    return f && f.type === FieldType.STRING ? f.value : undefined;
  }

  getBinary(name: string): Buffer | undefined {
    const f = this.fields.find((x) => x.name === name);
    return f && f.type === FieldType.BINARY ? f.value : undefined;
  }

  /** First nested message of `name`, or undefined (also for other field types). */
  getStruct(name: string): HaMsg | undefined {
    const f = this.fields.find((x) => x.name === name);
    return f && f.type === FieldType.STRUCT ? f.value : undefined;
  }

  getList(name: string): string[] | undefined {
    const f = this.fields.find((x) => x.name === name);
    return f && f.type === FieldType.LIST ? f.value : undefined;
  }

  getField(name: string): Field | undefined {
    return this.fields.find((x) => x.name === name);
  }

  has(name: string): boolean {
    return this.fields.some((x) => x.name === name);
  }

  add(name: string, value: string): this {
    this.fields.push({ name, type: FieldType.STRING, value });
    return this;
  }

  addBinary(name: string, value: Buffer): this {
    this.fields.push({ name, type: FieldType.BINARY, value });
    return this;
  }

  addStruct(name: string, value: HaMsg): this {
    this.fields.push({ name, type: FieldType.STRUCT, value });
    return this;
  }

  addList(name: string, value: string[]): this {
    this.fields.push({ name, type: FieldType.LIST, value });
    return this;
  }

  addField(field: Field): this {
    this.fields.push(field);
    return this;
  }

  /** Replace the first field of this name in place, or append it. */
  mod(name: string, value: string): this {
    return this.modField({ name, type: FieldType.STRING, value });
  }

  modBinary(name: string, value: Buffer): this {
    return this.modField({ name, type: FieldType.BINARY, value });
  }

  modField(field: Field): this {
    const i = this.fields.findIndex((x) => x.name === field.name);
    if (i >= 0) this.fields[i] = field;
    else this.fields.push(field);
    return this;
  }

  /** Remove every field of this name. */
  remove(name: string): this {
    for (let i = this.fields.length - 1; i >= 0; i--) {
      if (this.fields[i]?.name === name) this.fields.splice(i, 1);
    }
    return this;
  }

  clone(): HaMsg {
    const m = new HaMsg();
    for (const f of this.fields) {
      switch (f.type) {
        case FieldType.STRUCT: m.fields.push({ name: f.name, type: f.type, value: f.value.clone() }); break;
        case FieldType.LIST: m.fields.push({ name: f.name, type: f.type, value: [...f.value] }); break;
        default: m.fields.push({ ...f } as Field);
      }
    }
    return m;
  }

  /** String fields as a plain object (first occurrence wins), for logs and the rc.d environment. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.fields) {
      if (f.type === FieldType.STRING && !(f.name in out)) out[f.name] = f.value;
    }
    return out;
  }
}
