#!/usr/bin/env node
process.env.TZ = process.env.TZ || 'UTC';
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
