// A user module that defines a class and registers it (used by test/api/class-modules.test.ts; not a test
// itself). The shipped functions of that test never name Money: only this module knows the class.
import { registerClass } from '../../src/index.js';

export class Money {
  constructor(
    public cents: number,
    public currency: string,
  ) {}
  plus(o: Money): Money {
    if (o.currency !== this.currency) throw new Error(`cannot add ${o.currency} to ${this.currency}`);
    return new Money(this.cents + o.cents, this.currency);
  }
  toString(): string {
    return `${(this.cents / 100).toFixed(2)} ${this.currency}`;
  }
}
registerClass(Money);
