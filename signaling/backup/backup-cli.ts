import { Command, CommanderError, Option } from "commander";
import { BackupError, backupDatabase, type DatabaseSummary, restoreDatabase } from "./sqlite-backup.ts";

/**
 * `sos-gateway backup <file>` and `sos-gateway restore <file>`, for the embedded store.
 * Exit codes: 0 done, 1 failed (nothing to back up, a disk that refuses), 2 invalid usage,
 * 3 refused (the target exists without --force, the file is no sound gateway database, the
 * database to replace is in use).
 */
export const BACKUP_COMMANDS: readonly string[] = ["backup", "restore"];

export const BACKUP_HELP = `
Backup and restore (the embedded SQLite store):
  sos-gateway backup <file> [--data-dir <dir>] [--force]    consistent copy, also while the gateway runs
  sos-gateway restore <file> [--data-dir <dir>] [--force]   into a stopped gateway's data directory
`;

const EXIT = { done: 0, failed: 1, usage: 2, refused: 3 } as const;

/** What a backup or restore printed about the file: `schema 3, 1 session (1 with a live PIN), ...`. */
export function describeSummary(summary: DatabaseSummary): string {
  const { schemaVersion, sessions, livePins, auditRows, bytes } = summary;
  return `schema ${schemaVersion}, ${count(sessions, "session")} (${livePins} with a live PIN), ${count(auditRows, "audit row")}, ${(bytes / 1024).toFixed(1)} KiB`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

const dataDirOption = () =>
  new Option("--data-dir <dir>", "the gateway's data directory").env("SOS_DATA_DIR").default("./data");

/** Runs `backup` or `restore` with the arguments after `sos-gateway`; resolves with the exit code. */
export async function runBackupCommand(args: readonly string[]): Promise<number> {
  let code: number = EXIT.done;
  const run = (name: string, work: () => Promise<string>) => async () => {
    try {
      process.stdout.write(`${await work()}\n`);
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      process.stderr.write(`sos-gateway ${name}: ${error.message}\n`);
      code = error.kind === "refused" ? EXIT.refused : EXIT.failed;
    }
  };
  const program = new Command().name("sos-gateway").exitOverride().showHelpAfterError();
  program
    .command("backup")
    .description(
      "Copy the gateway's database to <file>: one consistent snapshot, also while the gateway runs.",
    )
    .argument("<file>", "where the backup goes (readable by its owner only)")
    .addOption(dataDirOption())
    .option("--force", "replace <file> if it exists", false)
    .action((file: string, options: { dataDir: string; force: boolean }) =>
      run("backup", async () => {
        const summary = await backupDatabase(options.dataDir, file, options);
        return `Backed up ${options.dataDir} to ${file}: ${describeSummary(summary)}.`;
      })(),
    );
  program
    .command("restore")
    .description("Restore a backup into the data directory of a stopped gateway, after checking it.")
    .argument("<file>", "a backup made by sos-gateway backup")
    .addOption(dataDirOption())
    .option("--force", "replace an existing database (kept as gateway.db.replaced-<time>)", false)
    .action((file: string, options: { dataDir: string; force: boolean }) =>
      run("restore", async () => {
        const summary = await restoreDatabase(file, options.dataDir, options);
        const kept =
          summary.replaced === undefined ? "" : ` The database it replaced is kept as ${summary.replaced}.`;
        return `Restored ${file} into ${options.dataDir}: ${describeSummary(summary)}.${kept}`;
      })(),
    );
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) {
      process.stderr.write(`sos-gateway: ${error instanceof Error ? error.message : String(error)}\n`);
      return EXIT.failed;
    }
    return error.exitCode === 0 ? EXIT.done : EXIT.usage;
  }
  return code;
}
