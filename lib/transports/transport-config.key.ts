import { createHmac, randomBytes, type Hmac } from 'node:crypto';

/**
 * Keys that tell transport configurations apart, so that a cache finds the transport it already
 * built for a configuration. A configuration holds credentials, so a key is an HMAC under a secret
 * drawn at random for each instance: equal for equal configurations within one process, and no use
 * to anyone who reads it in a log or a dump — a guessed password cannot be checked against it.
 *
 * Plain data (strings, numbers, booleans, arrays, plain objects, Buffers, Dates) is compared by
 * value, with object keys in any order and keys set to `undefined` left out. Anything else — a
 * function, a logger, a KeyObject, a class instance — is compared by identity.
 */
export class TransportConfigKeys {
  private readonly secret = randomBytes(32);
  private readonly identities = new WeakMap<object, number>();
  private nextIdentity = 0;

  /** 64 hex characters. */
  key(config: unknown): string {
    const hmac = createHmac('sha256', this.secret);
    this.write(hmac, config, new Set());
    return hmac.digest('hex');
  }

  private write(hmac: Hmac, value: unknown, open: Set<object>): void {
    switch (typeof value) {
      case 'string':
        // Length first, so that no two sequences of values write the same bytes.
        hmac.update(`s${Buffer.byteLength(value)}:`).update(value);
        return;
      case 'number':
      case 'boolean':
      case 'bigint':
        hmac.update(`${(typeof value)[0]}${String(value)};`);
        return;
      case 'undefined':
        hmac.update('u;');
        return;
      case 'function':
        hmac.update(`r${this.identity(value)};`);
        return;
      case 'symbol':
        this.write(hmac.update('y'), value.description, open);
        return;
    }
    if (value === null) {
      hmac.update('z;');
      return;
    }
    const object = value as object;
    if (object instanceof Uint8Array) {
      hmac.update(`b${object.byteLength}:`).update(object);
      return;
    }
    if (object instanceof Date) {
      hmac.update(`d${object.getTime()};`);
      return;
    }
    const proto = Object.getPrototypeOf(object) as unknown;
    const plain = Array.isArray(object) || proto === Object.prototype || proto === null;
    if (!plain || open.has(object)) {
      hmac.update(`r${this.identity(object)};`);
      return;
    }
    open.add(object);
    if (Array.isArray(object)) {
      hmac.update(`a${object.length}:`);
      for (const item of object) this.write(hmac, item, open);
    } else {
      const record = object as Record<string, unknown>;
      const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
      hmac.update(`o${keys.length}:`);
      for (const key of keys) {
        this.write(hmac, key, open);
        this.write(hmac, record[key], open);
      }
    }
    open.delete(object);
  }

  private identity(object: object): number {
    let id = this.identities.get(object);
    if (id === undefined) {
      id = ++this.nextIdentity;
      this.identities.set(object, id);
    }
    return id;
  }
}
