// The `vnic` command (bin: ../bin/vnic.js; in the workspace: `pnpm vnic <command>`).
import { runCli } from './runCli.ts';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Anything still holding the event loop (an async epoll_wait finishing its slice) must not keep a
// finished command alive.
setTimeout(() => process.exit(code), 1000).unref();
