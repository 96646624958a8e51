/**
 * Parses the source of one shipped function (fn.toString()) and finds the names it uses from outside
 * itself, with JavaScript's lexical scoping (params with destructuring/defaults, var hoisting,
 * let/const/class/function in blocks, catch params, named function expressions, `arguments`).
 * Pure: no file or module access, no decisions about what is allowed (src/api/closure.ts does that).
 */
import { parse } from 'acorn';
import { type FnShape, wrapSource } from '../plan/fn-wire.js';

export interface FnSource {
  shape: FnShape;
  /** identifiers used but not declared inside the function */
  free: Set<string>;
  /** an arrow function at the top uses `this` (or `super`/`new.target`) of its surroundings */
  outerThis: boolean;
}

type AnyNode = { type: string; [k: string]: any };

class Scope {
  readonly names = new Set<string>();
  constructor(
    readonly parent: Scope | null,
    /** a function (or class field/static block) scope: `var` lands here */
    readonly isFn: boolean,
    /** binds its own `this` (non-arrow functions, class bodies) */
    readonly bindsThis: boolean,
  ) {}
  fnScope(): Scope {
    let s: Scope = this;
    while (!s.isFn && s.parent) s = s.parent;
    return s;
  }
  has(name: string): boolean {
    for (let s: Scope | null = this; s; s = s.parent) if (s.names.has(name)) return true;
    return false;
  }
  thisBound(): boolean {
    for (let s: Scope | null = this; s; s = s.parent) if (s.bindsThis) return true;
    return false;
  }
}

const SKIP_KEYS = new Set(['type', 'start', 'end', 'loc', 'range']);

class Analyzer {
  readonly refs: Array<{ name: string; scope: Scope }> = [];
  outerThis = false;

  visit(node: AnyNode | null | undefined, scope: Scope): void {
    if (!node) return;
    switch (node.type) {
      case 'Identifier':
        this.refs.push({ name: node.name, scope });
        return;
      case 'ThisExpression':
      case 'Super':
        if (!scope.thisBound()) this.outerThis = true;
        return;
      case 'MetaProperty':
        if (node.meta.name === 'new' && !scope.thisBound()) this.outerThis = true;
        return;
      case 'FunctionDeclaration':
        if (node.id) {
          scope.names.add(node.id.name);
          scope.fnScope().names.add(node.id.name); // sloppy-mode hoisting: be lenient
        }
        this.fn(node, scope);
        return;
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        this.fn(node, scope);
        return;
      case 'ClassDeclaration':
        if (node.id) scope.names.add(node.id.name);
        this.cls(node, scope);
        return;
      case 'ClassExpression': {
        const s = new Scope(scope, false, false);
        if (node.id) s.names.add(node.id.name);
        this.cls(node, s);
        return;
      }
      case 'VariableDeclaration': {
        const target = node.kind === 'var' ? scope.fnScope() : scope;
        for (const d of node.declarations) {
          this.declare(d.id, target, scope);
          this.visit(d.init, scope);
        }
        return;
      }
      case 'BlockStatement':
      case 'StaticBlock': {
        const s = node.type === 'StaticBlock' ? new Scope(scope, true, true) : new Scope(scope, false, false);
        for (const st of node.body) this.visit(st, s);
        return;
      }
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'SwitchStatement': {
        const s = new Scope(scope, false, false);
        if (node.type === 'SwitchStatement') this.visit(node.discriminant, scope);
        this.children(node, s, ['discriminant']);
        return;
      }
      case 'CatchClause': {
        const s = new Scope(scope, false, false);
        if (node.param) this.declare(node.param, s, s);
        this.visit(node.body, s);
        return;
      }
      case 'MemberExpression':
        this.visit(node.object, scope);
        if (node.computed) this.visit(node.property, scope);
        return;
      case 'Property':
      case 'MethodDefinition':
      case 'PropertyDefinition':
        if (node.computed) this.visit(node.key, scope);
        if (node.type === 'PropertyDefinition') this.visit(node.value, new Scope(scope, true, true));
        else this.visit(node.value, scope);
        return;
      case 'LabeledStatement':
        this.visit(node.body, scope);
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'PrivateIdentifier':
      case 'Literal':
        return;
      default:
        this.children(node, scope);
    }
  }

  private children(node: AnyNode, scope: Scope, skip: string[] = []): void {
    for (const k of Object.keys(node)) {
      if (SKIP_KEYS.has(k) || skip.includes(k)) continue;
      const v = node[k];
      if (Array.isArray(v)) {
        for (const x of v) if (x && typeof x.type === 'string') this.visit(x, scope);
      } else if (v && typeof v === 'object' && typeof v.type === 'string') this.visit(v, scope);
    }
  }

  private fn(node: AnyNode, outer: Scope): void {
    const arrow = node.type === 'ArrowFunctionExpression';
    const s = new Scope(outer, true, !arrow);
    if (node.type === 'FunctionExpression' && node.id) s.names.add(node.id.name);
    if (!arrow) s.names.add('arguments');
    for (const p of node.params) this.declare(p, s, s);
    if (node.body.type === 'BlockStatement') for (const st of node.body.body) this.visit(st, s);
    else this.visit(node.body, s);
  }

  private cls(node: AnyNode, scope: Scope): void {
    this.visit(node.superClass, scope);
    const body = new Scope(scope, false, true);
    for (const m of node.body.body) this.visit(m, body);
  }

  /** Declares the names bound by a pattern; default values and computed keys are expressions in `refScope`. */
  private declare(p: AnyNode | null, target: Scope, refScope: Scope): void {
    if (!p) return;
    switch (p.type) {
      case 'Identifier':
        target.names.add(p.name);
        return;
      case 'ObjectPattern':
        for (const prop of p.properties) {
          if (prop.type === 'RestElement') this.declare(prop.argument, target, refScope);
          else {
            if (prop.computed) this.visit(prop.key, refScope);
            this.declare(prop.value, target, refScope);
          }
        }
        return;
      case 'ArrayPattern':
        for (const e of p.elements) this.declare(e, target, refScope);
        return;
      case 'RestElement':
        this.declare(p.argument, target, refScope);
        return;
      case 'AssignmentPattern':
        this.declare(p.left, target, refScope);
        this.visit(p.right, refScope);
        return;
      default:
        this.visit(p, refScope); // member expressions in assignment targets
    }
  }
}

function tryParse(code: string): AnyNode | undefined {
  try {
    return parse(code, { ecmaVersion: 'latest', sourceType: 'script' }) as unknown as AnyNode;
  } catch {
    return undefined;
  }
}

/**
 * Analyses a function's source. Returns undefined when it is not a parsable function
 * (the caller reports what it got).
 */
export function analyzeFnSource(src: string): FnSource | { error: string } {
  let shape: FnShape = 'expr';
  let prog = tryParse(wrapSource(src, 'expr'));
  let root: AnyNode | undefined = prog?.body?.[0]?.expression;
  if (
    !root ||
    prog?.body.length !== 1 ||
    !['ArrowFunctionExpression', 'FunctionExpression', 'ClassExpression'].includes(root.type)
  ) {
    // method shorthand: `foo(x) { ... }`, `async *foo() {}`
    prog = tryParse(`({\n${src}\n})`); // same text as wrapSource(src, 'method') minus the call
    const obj: AnyNode | undefined = prog?.body?.[0]?.expression;
    const prop = obj?.type === 'ObjectExpression' && obj.properties.length === 1 ? obj.properties[0] : undefined;
    if (prop?.type !== 'Property') return { error: 'its source could not be parsed as a function' };
    if (prop.kind !== 'init') return { error: 'getters and setters cannot be shipped; pass a plain function' };
    shape = 'method';
    root = obj;
  }
  const a = new Analyzer();
  const top = new Scope(null, true, false);
  a.visit(root, top);
  const free = new Set<string>();
  for (const r of a.refs) if (!r.scope.has(r.name)) free.add(r.name);
  return { shape, free, outerThis: a.outerThis };
}
