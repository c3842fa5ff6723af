// gpu-bundle-tap.mjs — a small stand-in for tap inside the GPU bundle (which carries neither tap nor
// TypeScript): nested tests run in order, skip, teardown, and the assertions the CUDA tests use, printed
// as TAP. The exit code is 1 when any assertion failed or a test threw.
import { isDeepStrictEqual } from 'node:util';

let failures = 0;

/** tap's match: a RegExp against the text, a string as a substring, an object field by field. */
function matches(value, pattern) {
  if (pattern instanceof RegExp) return pattern.test(String(value));
  if (typeof pattern === 'string') return String(value).includes(pattern);
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([key, expected]) => matches(value[key], expected));
  }
  return value === pattern;
}

function describe(error) {
  return error && error.stack ? error.stack : String(error);
}

function make(depth) {
  const pad = '    '.repeat(depth);
  let count = 0;
  const chain = [];
  const teardowns = [];
  const report = (ok, message) => {
    count++;
    if (!ok) failures++;
    console.log(`${pad}${ok ? 'ok' : 'not ok'} ${count} - ${message}`);
    return ok;
  };
  const thrown = (body) => {
    try { body(); } catch (error) { return { error }; }
    return undefined;
  };
  const t = {
    ok: (value, message = 'should be truthy') => report(Boolean(value), message),
    notOk: (value, message = 'should be falsy') => report(!value, message),
    equal: (a, b, message = 'should be equal') => report(a === b, message + (a === b ? '' : ` (got ${a}, wanted ${b})`)),
    not: (a, b, message = 'should not be equal') => report(a !== b, message),
    same: (a, b, message = 'should be equivalent') => report(isDeepStrictEqual(a, b), message),
    notSame: (a, b, message = 'should not be equivalent') => report(!isDeepStrictEqual(a, b), message),
    match: (a, pattern, message = 'should match pattern') => report(matches(a, pattern), message + (matches(a, pattern) ? '' : ` (got ${JSON.stringify(a)?.slice(0, 300)})`)),
    notMatch: (a, pattern, message = 'should not match pattern') => report(!matches(a, pattern), message),
    type: (a, type, message = `type is ${type}`) => report(typeof type === 'string' ? typeof a === type : a instanceof type, message),
    pass: (message = 'passed') => report(true, message),
    fail: (message = 'failed') => report(false, message),
    comment: (...parts) => console.log(`${pad}# ${parts.join(' ')}`),
    throws: (body, pattern, message = 'expected to throw') => {
      if (typeof pattern === 'string') { message = pattern; pattern = undefined; }
      const caught = thrown(body);
      return report(caught !== undefined && (pattern === undefined || matches(caught.error, pattern) || matches(caught.error?.message, pattern)), message);
    },
    doesNotThrow: (body, message = 'expected not to throw') => {
      const caught = thrown(body);
      return report(caught === undefined, message + (caught ? `: ${caught.error?.message}` : ''));
    },
    rejects: async (promiseOrFunction, pattern, message = 'expected to reject') => {
      if (typeof pattern === 'string') { message = pattern; pattern = undefined; }
      try {
        await (typeof promiseOrFunction === 'function' ? promiseOrFunction() : promiseOrFunction);
      } catch (error) {
        return report(pattern === undefined || matches(error, pattern) || matches(error?.message, pattern), message);
      }
      return report(false, `${message} (it resolved)`);
    },
    resolves: async (promiseOrFunction, message = 'expected to resolve') => {
      try {
        await (typeof promiseOrFunction === 'function' ? promiseOrFunction() : promiseOrFunction);
        return report(true, message);
      } catch (error) {
        return report(false, `${message}: ${error?.message}`);
      }
    },
    teardown: (body) => { teardowns.push(body); },
    plan: () => {},
    end: () => {},
    test(name, options, body) {
      if (typeof options === 'function') { body = options; options = {}; }
      const previous = chain.at(-1) ?? Promise.resolve();
      const run = previous.then(async () => {
        if (options.skip || options.todo) {
          count++;
          console.log(`${pad}ok ${count} - ${name} # ${options.skip ? 'SKIP' : 'TODO'} ${options.skip || options.todo}`);
          return;
        }
        console.log(`${pad}# Subtest: ${name}`);
        const child = make(depth + 1);
        const before = failures;
        try {
          await body(child);
          await child.done();
        } catch (error) {
          failures++;
          console.log(`${pad}    not ok - threw: ${describe(error)}`);
        }
        report(failures === before, name);
      });
      chain.push(run);
      return run;
    },
    done: async () => {
      for (let i = 0; i < chain.length; i++) await chain[i];
      for (const body of teardowns.splice(0).reverse()) await body();
    },
  };
  return t;
}

const t = make(0);
let finished = false;
process.on('beforeExit', async () => {
  if (finished) return;
  finished = true;
  try {
    await t.done();
  } catch (error) {
    failures++;
    console.log(`not ok - teardown threw: ${describe(error)}`);
  }
  process.exitCode = failures > 0 ? 1 : 0;
});
export default t;
export const Test = Object;
