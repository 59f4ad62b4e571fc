import { useState } from "preact/hooks";
import type { MeResponse } from "../../../shared/api.ts";
import { HOME_CHANNEL_ID, type Session, type Technician } from "../../../shared/model.ts";
import { useI18n } from "../lib/i18n.ts";
import { sessionsOfChannel } from "../lib/session-actions.ts";
import { useStore } from "../lib/store.ts";
import { channels, sessions, sessionsLoaded, socketStatus, technicians } from "../state/stores.ts";
import { channelName } from "../ui/channel-name.ts";
import { Icon } from "../ui/Icon.tsx";
import { useAction } from "../ui/use-action.ts";
import { AssignDialog } from "./AssignDialog.tsx";
import { ConfirmDialog } from "./ConfirmDialog.tsx";
import { InviteDialog } from "./InviteDialog.tsx";
import { NewSessionDialog } from "./NewSessionDialog.tsx";
import { PinDialog } from "./PinDialog.tsx";
import { SessionDetails, type SessionDialog } from "./SessionDetails.tsx";
import { SessionTable } from "./SessionTable.tsx";
import { TransferDialog } from "./TransferDialog.tsx";

type OpenDialog = { kind: "new" } | { kind: SessionDialog; sessionId: string } | null;

/** One channel's sessions, the selected session's details and actions, and their dialogs. */
export function ServiceDesk(props: { channelId: string; me: MeResponse }) {
  const { t } = useI18n();
  const me = props.me.technician;
  const channelList = useStore(channels);
  const people = useStore(technicians);
  const all = useStore(sessions);
  const loaded = useStore(sessionsLoaded);
  const status = useStore(socketStatus);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const action = useAction();

  const channel = channelList.find((candidate) => candidate.id === props.channelId);
  const label = channel === undefined ? t("channel.home") : channelName(channel, t);
  const rows = sessionsOfChannel(all.values(), props.channelId, me.id);
  const selected = (selectedId === null ? undefined : all.get(selectedId)) ?? null;
  const licensed = props.me.organization.features.attendedAccess;
  const mayCreate = licensed && me.permissions.attendedAccess;
  const finish = (info: string): void => {
    setDialog(null);
    action.announce(info);
  };
  const dialogSession = dialog !== null && dialog.kind !== "new" ? all.get(dialog.sessionId) : undefined;

  return (
    <div class="desk">
      <header class="desk-header">
        <h1>{label}</h1>
        <button
          type="button"
          class="primary"
          disabled={!mayCreate}
          onClick={() => {
            action.clear();
            setDialog({ kind: "new" });
          }}
        >
          <Icon name="plus" />
          {t("desk.newSession")}
        </button>
      </header>
      {!licensed && <p class="banner">{t("desk.notLicensed")}</p>}
      {licensed && !me.permissions.attendedAccess && <p class="banner">{t("desk.noAttendedAccess")}</p>}
      {status !== "open" && (
        <p class="banner" role="status">
          {loaded ? t("desk.reconnecting") : t("desk.connecting")}
        </p>
      )}
      <div class="desk-body">
        <div class="table-wrap">
          <SessionTable
            label={t("desk.sessions", { channel: label })}
            sessions={rows}
            me={me}
            selectedId={selected?.id ?? null}
            onSelect={(id) => {
              action.clear();
              setSelectedId(id);
            }}
            action={action}
          />
          {loaded && rows.length === 0 && (
            <p class="hint">{props.channelId === HOME_CHANNEL_ID ? t("desk.emptyHome") : t("desk.empty")}</p>
          )}
        </div>
        <SessionDetails
          session={selected}
          me={me}
          channels={channelList}
          technicians={people}
          action={action}
          onDialog={(kind) => selected !== null && setDialog({ kind, sessionId: selected.id })}
        />
      </div>
      {dialog?.kind === "new" && (
        <NewSessionDialog
          channelId={props.channelId}
          channelLabel={label}
          onCreated={setSelectedId}
          onClose={() => setDialog(null)}
        />
      )}
      {dialogSession !== undefined && dialog !== null && dialog.kind !== "new" && (
        <SessionDialogFor
          kind={dialog.kind}
          session={dialogSession}
          me={me}
          onDone={finish}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}

function SessionDialogFor(props: {
  kind: SessionDialog;
  session: Session;
  me: Technician;
  onDone: (info: string) => void;
  onClose: () => void;
}) {
  const people = useStore(technicians);
  const channelList = useStore(channels);
  const common = { session: props.session, onDone: props.onDone, onClose: props.onClose };
  switch (props.kind) {
    case "assign":
      return <AssignDialog {...common} me={props.me} technicians={people} />;
    case "transfer":
      return <TransferDialog {...common} me={props.me} technicians={people} channels={channelList} />;
    case "invite":
      return <InviteDialog {...common} technicians={people} />;
    case "showPin":
      return <PinDialog session={props.session} onClose={props.onClose} />;
    case "close":
    case "delete":
      return <ConfirmDialog {...common} kind={props.kind} />;
  }
}
