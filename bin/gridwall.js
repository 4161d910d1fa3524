#!/usr/bin/env node
// The `gridwall` command. Sources are TypeScript run through tsx, so the checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
// `gridwall audit export | head`: a reader that closes the pipe early is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
