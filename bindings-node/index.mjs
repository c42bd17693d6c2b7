// The ES module entry of `leaseq`: the same native module as `require('leaseq')`, whose named
// exports Node reads from the generated `index.js` (so this list never drifts from it).
export * from './index.js'
export { default } from './index.js'
