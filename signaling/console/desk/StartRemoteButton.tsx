import type { Session, Technician } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { type Translate, useI18n } from "../lib/i18n.ts";
import type { MessageKey } from "../lib/messages.en.ts";
import { navigate } from "../lib/router.ts";
import { type RemoteStep, remoteStep } from "../lib/session-actions.ts";
import { Icon, type IconName } from "../ui/Icon.tsx";
import type { ActionRunner } from "../ui/use-action.ts";

/**
 * "Start remote session": the first click asks the end user (for control; "View only" beside it in
 * the details panel asks to see the screen only); while they decide it waits; once
 * granted its icon changes and the next click opens the remote view.
 */

function look(step: RemoteStep): { icon: IconName; text: MessageKey } {
  switch (step.kind) {
    case "unavailable":
      return { icon: "monitor", text: "remote.state.unavailable" };
    case "request":
      if (step.after === "denied") return { icon: "denied", text: "remote.state.denied" };
      if (step.after === "revoked") return { icon: "denied", text: "remote.state.revoked" };
      return { icon: "monitor", text: "remote.state.request" };
    case "waiting":
      return { icon: "hourglass", text: "remote.state.waiting" };
    case "connect":
      return {
        icon: "connect",
        text: step.access === "view" ? "remote.state.grantedView" : "remote.state.granted",
      };
    case "open":
      return { icon: "open", text: "remote.state.open" };
  }
}

export function remoteStepText(step: RemoteStep, t: Translate): string {
  return t(look(step).text);
}

export function StartRemoteButton(props: {
  session: Session;
  me: Technician;
  action: ActionRunner;
  /** With its state written out beside it (the details panel), or as an icon only (the table). */
  withCaption?: boolean;
  /** Called first on a click (the table selects the row, so the outcome shows beside it). */
  onActivate?: () => void;
}) {
  const { t } = useI18n();
  const step = remoteStep(props.session, props.me);
  const { icon, text } = look(step);
  const enabled = step.kind !== "unavailable" && step.kind !== "waiting";
  const onClick = (): void => {
    props.onActivate?.();
    if (step.kind === "request") {
      void props.action.run(() => api.requestPermission(props.session.id, "control"), t("done.request"));
    } else if (step.kind === "connect" || step.kind === "open") {
      navigate({ page: "remote", sessionId: props.session.id });
    }
  };
  return (
    <span class={`start-remote step-${step.kind}`}>
      <button
        type="button"
        class={props.withCaption === true ? "action" : "icon-button"}
        aria-label={t("action.startRemote")}
        title={t(text)}
        disabled={!enabled || props.action.busy}
        onClick={onClick}
      >
        <Icon name={icon} />
        {props.withCaption === true && <span aria-hidden="true">{t("action.startRemote")}</span>}
      </button>
      {props.withCaption === true && step.kind === "request" && (
        <button
          type="button"
          class="action"
          title={t("remote.requestView.title")}
          disabled={props.action.busy}
          onClick={() => {
            props.onActivate?.();
            void props.action.run(() => api.requestPermission(props.session.id, "view"), t("done.request"));
          }}
        >
          {t("remote.requestView")}
        </button>
      )}
      {props.withCaption === true ? (
        <span class="caption">{t(text)}</span>
      ) : (
        <span class="visually-hidden">{t(text)}</span>
      )}
    </span>
  );
}
