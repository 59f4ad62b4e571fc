import {
  KEYBOARD_MODES,
  type KeyboardMode,
  type MonitorInfo,
  type ReservedCombo,
  type TechnicianControl,
} from "../../../shared/control.ts";
import { useI18n } from "../lib/i18n.ts";
import { Icon } from "../ui/Icon.tsx";
import { SelectField } from "../ui/SelectField.tsx";
import { SPECIAL_KEYS, type SpecialKey } from "./keys.ts";

export type ScaleMode = "fit" | "actual";

const KEY_BUTTONS: ReadonlyArray<{
  key: SpecialKey;
  label: "remote.ctrlAltDel" | "remote.winKey" | "remote.altTab";
}> = [
  { key: "ctrlAltDel", label: "remote.ctrlAltDel" },
  { key: "winKey", label: "remote.winKey" },
  { key: "altTab", label: "remote.altTab" },
];

export function RemoteToolbar(props: {
  scale: ScaleMode;
  onScale: (mode: ScaleMode) => void;
  onFullScreen: () => void;
  canControl: boolean;
  monitors: readonly MonitorInfo[];
  monitor: number;
  send: (message: TechnicianControl) => void;
  /** Combinations the agent's system keeps from programs: their button explains instead of sending. */
  reserved: readonly ReservedCombo[];
  onReserved: (combo: ReservedCombo) => void;
  keyboardMode: KeyboardMode;
  onKeyboardMode: (mode: KeyboardMode) => void;
  onDisconnect: () => void;
}) {
  const { t } = useI18n();
  return (
    <div class="remote-tools" role="toolbar" aria-label={t("remote.toolbar")}>
      <button type="button" aria-pressed={props.scale === "fit"} onClick={() => props.onScale("fit")}>
        <Icon name="fit" />
        {t("remote.fit")}
      </button>
      <button type="button" aria-pressed={props.scale === "actual"} onClick={() => props.onScale("actual")}>
        <Icon name="actual" />
        {t("remote.actualSize")}
      </button>
      <button type="button" onClick={props.onFullScreen}>
        <Icon name="fullscreen" />
        {t("remote.fullScreen")}
      </button>
      {KEY_BUTTONS.map((button) => {
        const reserved = props.reserved.find((combo) => combo === button.key);
        return (
          <button
            key={button.key}
            type="button"
            disabled={!props.canControl}
            title={reserved === undefined ? undefined : t(`remote.reserved.${reserved}`)}
            onClick={() => {
              if (reserved !== undefined) {
                props.onReserved(reserved);
                return;
              }
              for (const message of SPECIAL_KEYS[button.key]) props.send(message);
            }}
          >
            <Icon name="keyboard" />
            {t(button.label)}
          </button>
        );
      })}
      <SelectField
        inline
        label={t("remote.keyboard")}
        value={props.keyboardMode}
        onChange={(mode) => {
          const chosen = KEYBOARD_MODES.find((known) => known === mode);
          if (chosen !== undefined) props.onKeyboardMode(chosen);
        }}
      >
        {KEYBOARD_MODES.map((mode) => (
          <option key={mode} value={mode} title={t(`remote.keyboard.${mode}.hint`)}>
            {t(`remote.keyboard.${mode}`)}
          </option>
        ))}
      </SelectField>
      {props.monitors.length > 0 && (
        <SelectField
          inline
          label={t("remote.monitor")}
          value={String(props.monitor)}
          disabled={!props.canControl || props.monitors.length < 2}
          onChange={(index) => props.send({ type: "monitor", index: Number(index) })}
        >
          {props.monitors.map((monitor) => (
            <option key={monitor.index} value={String(monitor.index)}>
              {t("remote.monitorName", {
                name: monitor.name,
                width: monitor.width,
                height: monitor.height,
              })}
            </option>
          ))}
        </SelectField>
      )}
      <button type="button" class="danger" onClick={props.onDisconnect}>
        <Icon name="disconnect" />
        {t("remote.disconnect")}
      </button>
    </div>
  );
}
