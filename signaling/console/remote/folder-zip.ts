import { type Zippable, zipSync } from "fflate";
import { MAX_FOLDER_ZIP_BYTES } from "../../../shared/limits.ts";

/**
 * A folder the technician picked (`<input webkitdirectory>`: files with their `webkitRelativePath`)
 * as one .zip named after the folder, made with fflate in memory. Undefined when it holds no files
 * or more than MAX_FOLDER_ZIP_BYTES.
 */
export async function zipFolder(files: readonly File[]): Promise<File | undefined> {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  if (files.length === 0 || total > MAX_FOLDER_ZIP_BYTES) return undefined;
  const entries: Zippable = {};
  for (const file of files) {
    const path = (file.webkitRelativePath || file.name).replace(/^\/+/, "");
    entries[path] = new Uint8Array(await file.arrayBuffer());
  }
  const folder = (files[0]?.webkitRelativePath ?? "").split("/")[0] || "folder";
  // Level 1: logs and documents still shrink, and a large folder does not hold the page long.
  const zipped = zipSync(entries, { level: 1 });
  return new File([zipped], `${folder}.zip`, { type: "application/zip" });
}
