#!/usr/bin/env node
// `npx leaseq`: the leaseq command line (the Rust code of the leaseq-cli crate, compiled into this
// package's native module). `leaseq --help` lists its commands.
'use strict'
const { runCli } = require('../index.js')

process.exitCode = runCli(['leaseq', ...process.argv.slice(2)])
