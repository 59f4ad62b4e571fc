/**
 * `npm run postgres -- <start|stop|status|url>`: a local PostgreSQL for the gateway, from Debian's
 * `postgresql` package, in a directory of its own (default `data/postgres`, never the system
 * cluster), on 127.0.0.1 with a generated password (scripts/postgres-process.ts).
 *   start   makes the cluster on first use, starts it (idempotent) and prints the URL to give the
 *           gateway as --database-url or SOS_DATABASE_URL
 *   stop    stops it (fast shutdown); nothing to do when stopped
 *   status  prints "running <url>" or "stopped"
 *   url     prints the URL only
 * Exit codes: 0 done, 1 PostgreSQL failed (the reason is printed), 2 bad options.
 */
import { Command, InvalidArgumentError } from "commander";
import { isRunning, startPostgres, stopPostgres, urlOfCluster } from "./postgres-process.ts";

function port(value: string): number {
  const parsed = Number(value);
  if (Number.isInteger(parsed) && parsed >= 1 && parsed <= 65_535) return parsed;
  throw new InvalidArgumentError(`--port must be a whole number from 1 to 65535, not ${value}`);
}

const program = new Command("postgres")
  .description("A local PostgreSQL for the gateway (--database-url).")
  .argument("<command>", "start, stop, status or url")
  .option("--dir <dir>", "the cluster's own directory", "data/postgres")
  .option("--port <port>", "port on 127.0.0.1 (default: a free one, kept across starts)", port)
  .option("--fast", "fsync off: for throwaway test clusters only (data may be lost on a crash)")
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : 2);
  });
program.parse();
const [command] = program.args;
const options = program.opts<{ dir: string; port?: number; fast?: boolean }>();

try {
  switch (command) {
    case "start": {
      const started = await startPostgres(options.dir, {
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.fast === true ? { fast: true } : {}),
      });
      process.stdout.write(`PostgreSQL running in ${started.dir}\n${started.url}\n`);
      break;
    }
    case "stop":
      stopPostgres(options.dir);
      process.stdout.write("PostgreSQL stopped\n");
      break;
    case "status":
      process.stdout.write(
        isRunning(options.dir) ? `running ${urlOfCluster(options.dir) ?? ""}\n` : "stopped\n",
      );
      break;
    case "url": {
      const url = urlOfCluster(options.dir);
      if (url === undefined) throw new Error(`no cluster in ${options.dir} yet: run start first`);
      process.stdout.write(`${url}\n`);
      break;
    }
    default:
      process.stderr.write(`postgres: unknown command ${command}; use start, stop, status or url\n`);
      process.exit(2);
  }
} catch (error) {
  process.stderr.write(`postgres: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
