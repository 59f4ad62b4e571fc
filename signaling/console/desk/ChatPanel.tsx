import { useEffect, useRef, useState } from "preact/hooks";
import { MAX_CHAT_LINE_CHARS } from "../../../shared/limits.ts";
import type { ChatLine, Session, Technician } from "../../../shared/model.ts";
import { isOnSession } from "../../../shared/session-policy.ts";
import { api, errorText } from "../lib/api.ts";
import { type Translate, useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { sendConsole } from "../state/connection.ts";
import { addChatLines, chats, socketStatus } from "../state/stores.ts";

/**
 * The session's chat with the end user: the history from the API, new lines from the console
 * socket. Every text (the end user's, a technician's, a name) is rendered as a text node, never as
 * markup. Technicians on the session write; others who may see the session read along.
 */
export function ChatPanel(props: { session: Session; me: Technician }) {
  const { t, formatTime } = useI18n();
  const { session, me } = props;
  const lines = useStore(chats).get(session.id) ?? [];
  const status = useStore(socketStatus);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const list = useRef<HTMLOListElement>(null);

  // The history, on opening the session and again after the socket came back (lines may be missed).
  useEffect(() => {
    if (status !== "open") return;
    let current = true;
    api
      .chat(session.id)
      .then((history) => {
        if (current) addChatLines(session.id, history.lines);
      })
      .catch((failure: unknown) => {
        if (current) setError(errorText(failure));
      });
    return () => {
      current = false;
    };
  }, [session.id, status]);

  useEffect(() => {
    const element = list.current;
    if (element !== null) element.scrollTop = element.scrollHeight;
  }, [lines.length]);

  const onSession = isOnSession(me.id, {
    assigneeId: session.assignee?.id ?? null,
    invitedIds: session.invited.map((person) => person.id),
  });
  const connected = session.agent.connected;
  const send = (event: Event): void => {
    event.preventDefault();
    const line = text.trim();
    if (line === "") return;
    if (sendConsole({ type: "chat.send", sessionId: session.id, text: line })) {
      setText("");
      setError(null);
    }
  };
  return (
    <section class="chat" aria-label={t("chat.title")}>
      <h3>{t("chat.title")}</h3>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ol class="chat-lines" ref={list} aria-live="polite">
        {lines.length === 0 && <li class="hint">{t("chat.empty")}</li>}
        {lines.map((line) => (
          <li key={line.id} class={`chat-line ${line.kind}`}>
            <time dateTime={line.at}>{formatTime(line.at)}</time> <ChatText line={line} t={t} />
          </li>
        ))}
      </ol>
      {!onSession ? (
        <p class="hint">{t("chat.notOnSession")}</p>
      ) : (
        <form class="chat-form" onSubmit={send}>
          <input
            type="text"
            aria-label={t("chat.input")}
            placeholder={t("chat.input")}
            maxLength={MAX_CHAT_LINE_CHARS}
            value={text}
            disabled={!connected}
            onInput={(event) => setText(event.currentTarget.value)}
          />
          <button type="submit" disabled={!connected || text.trim() === ""}>
            {t("chat.send")}
          </button>
          {!connected && <p class="hint">{t("chat.agentOffline")}</p>}
        </form>
      )}
    </section>
  );
}

/** One line's words: who said what, or who joined or left, in the console's language. */
function ChatText(props: { line: ChatLine; t: Translate }) {
  const { line, t } = props;
  const name = line.technician?.name ?? "";
  switch (line.kind) {
    case "joined":
      return <span class="system">{t("chat.joined", { name })}</span>;
    case "left":
      return <span class="system">{t("chat.left", { name })}</span>;
    case "enduser":
      return (
        <>
          <strong>{t("chat.endUser")}:</strong> <span class="text">{line.text}</span>
        </>
      );
    case "technician":
      return (
        <>
          <strong>{name}:</strong> <span class="text">{line.text}</span>
        </>
      );
  }
}
