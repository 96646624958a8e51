// A user module that defines a class and registers it (used by test/api/data.test.ts; not a test itself).
import { registerClass } from '../../src/index.js';

export class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
registerClass(Point);
