import { chatLineKindSchema } from "../../shared/model.ts";
import { int, text, textOrNull } from "./row-mappers.ts";
import type { ChatLineRow } from "./rows.ts";
import type { Raw, Sql } from "./sql.ts";
import type { StoreQueries } from "./store.ts";

export type ChatQueries = Pick<StoreQueries, "appendChatLine" | "listChatLines" | "countChatLines">;

function toChatLine(row: Raw): ChatLineRow {
  return {
    id: int(row, "id"),
    sessionId: text(row, "session_id"),
    at: int(row, "at"),
    kind: chatLineKindSchema.parse(row.kind),
    technicianId: textOrNull(row, "technician_id"),
    technicianName: textOrNull(row, "technician_name"),
    text: text(row, "text"),
  };
}

/** The chat of each session: appended, listed, counted (its limit is the domain's). */
export function chatQueries({ all, get }: Sql): ChatQueries {
  return {
    async appendChatLine(line) {
      const inserted = await get(
        "INSERT INTO chat_lines (session_id, at, kind, technician_id, technician_name, text) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        line.sessionId,
        line.at,
        line.kind,
        line.technicianId,
        line.technicianName,
        line.text,
      );
      if (inserted === undefined) throw new Error("store: the chat insert returned no id");
      return { ...line, id: int(inserted, "id") };
    },
    async listChatLines(sessionId) {
      return (await all("SELECT * FROM chat_lines WHERE session_id = ? ORDER BY id", sessionId)).map(
        toChatLine,
      );
    },
    async countChatLines(sessionId) {
      const row = await get("SELECT count(*) AS n FROM chat_lines WHERE session_id = ?", sessionId);
      return row === undefined ? 0 : int(row, "n");
    },
  };
}
