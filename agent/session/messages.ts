/**
 * Everything the agent tells the end user, in English and German. The language comes from
 * `--lang`, else the system locale (LC_ALL, LC_MESSAGES, LANG, then Intl).
 *
 * Every text parameter (a name, the organization, the gateway address, a build's support message)
 * came from outside: messagesFor() hands out builders that make each one inert first
 * (shared/plain-text.ts), in one place below. No line starts with such a parameter, so none can
 * look like the consent question's marker line.
 */
import type { ConsentDecision } from "../../shared/agent-protocol.ts";
import type { ContinueAnswer } from "../../shared/continuation.ts";
import {
  MAX_BRAND_LENGTH,
  MAX_CHAT_LINE_CHARS,
  MAX_FILE_NAME_CHARS,
  MAX_PRINTED_FIELD_LENGTH,
  MAX_PRINTED_OUTCOME_LENGTH,
  MAX_SUPPORT_MESSAGE_LENGTH,
} from "../../shared/limits.ts";
import { inertText } from "../../shared/plain-text.ts";
import type { AccessMode } from "../../shared/status.ts";
import { PEER_END_REASONS } from "../peer/path-watch.ts";

export const LANGUAGES = ["en", "de"] as const;

/** One technician on the session as the status line shows them. */
export type ConnectedTechnician = {
  readonly name: string;
  readonly access: AccessMode | null;
  readonly viewing: boolean;
};
export type Language = (typeof LANGUAGES)[number];

export type Messages = {
  /** A branded build's first line: its organization and support message. */
  brand(brand: string, supportMessage: string | undefined): string;
  connecting(gateway: string): string;
  waiting(sessionName: string, organization: string): string;
  howToStop: string;
  /** The first line of every consent question, on a line of its own; nothing from outside makes it. */
  consentMarker: string;
  consentAsk(technician: string, organization: string, access: AccessMode): string;
  consentWarning: string;
  consentChoices(access: AccessMode, seconds: number): string;
  consentInvalid: string;
  /** The first line of the question whether the session may continue; nothing from outside makes it. */
  continueMarker: string;
  continueAsk(minutes: number): string;
  continueChoices(seconds: number): string;
  continueInvalid: string;
  continueConfirmed: string;
  /** The end user said no: the session ends. */
  continueDeclined: string;
  /** No answer in time: the gateway ended the session. */
  continueUnanswered: string;
  granted(technician: string, access: AccessMode): string;
  denied(technician: string): string;
  timedOut(technician: string): string;
  requestWithdrawn(technician: string): string;
  /** Said once video reaches the technician (not when the view is merely opened). */
  connected(technician: string, access: AccessMode): string;
  couldNotConnect(technician: string): string;
  connectionInterrupted(technician: string): string;
  connectionRestored(technician: string): string;
  connectionLost(technician: string, seconds: number): string;
  disconnected(technician: string): string;
  revoked: string;
  /** How to chat, and that a consent question takes the next line. */
  chatHint: string;
  /** A technician's chat line, with the local time it was said (HH:MM). */
  chatFrom(technician: string, text: string, time: string): string;
  chatJoined(technician: string): string;
  chatLeft(technician: string): string;
  /** Who is connected with what rights; `viewing`: their remote view is open now. */
  connectedNow(technicians: readonly ConnectedTechnician[]): string;
  /** The last technician left the session. */
  allLeft: string;
  chatTooLong(max: number): string;
  /** A technician the end user allowed was sent this computer's facts. */
  systemInfoSent(technician: string): string;
  /** A technician starts recording what they see, told before the first frame is recorded. */
  recordingStarted(technician: string): string;
  recordingStopped(technician: string): string;
  /** Under the status line while recordings run: who records. */
  recordingNow(technicians: readonly string[]): string;
  chatNotSent(code: string): string;
  reconnecting: string;
  reconnected: string;
  /** A technician sends a file: where it will be saved, under which (sanitized) name, how large. */
  fileIncoming(technician: string, name: string, size: number, dir: string): string;
  /** A file on its way, either way (printed sparingly). */
  fileProgress(name: string, percent: number, bytesPerSecond: number): string;
  fileSaved(path: string, size: number, bytesPerSecond: number): string;
  fileSent(name: string, technician: string, bytesPerSecond: number): string;
  /** The end user's file waits for the technician to take it. */
  fileOffered(name: string, size: number, technician: string): string;
  fileFailed(name: string, code: string): string;
  /** The connection to the technician broke mid-transfer: the file waits `seconds` for it to come back. */
  fileInterrupted(name: string, seconds: number): string;
  /** The connection is back: the file goes on from `percent`. */
  fileResumed(name: string, percent: number): string;
  fileCancelled(name: string, byUs: boolean): string;
  /** A technician's file was refused (files turned off, no control, too large ...). */
  fileRefused(technician: string, name: string, size: number, code: string): string;
  /** The end user's `f <path>` could not be offered. */
  fileNotOffered(path: string, code: string): string;
  /** `f` without a technician who controls this computer. */
  fileNobody: string;
  /** `f` without a path. */
  fileUsage: string;
  /** `x`: how many transfers were stopped. */
  filesCancelled(count: number): string;
  /** node-datachannel could not be loaded: files go over the view's own (slower) connection. */
  filesSlow: string;
  help: string;
  endedByUser: string;
  closedByTechnician: string;
  expired: string;
  deleted: string;
  replaced: string;
  unknownSession: string;
  sessionClosed: string;
  gatewayUnreachable(gateway: string): string;
  /** The gateway's TLS certificate is not trusted; `problem` is OpenSSL's code for why. */
  certificateRefused(gateway: string, problem: string): string;
  rateLimited(seconds: number | undefined): string;
  alreadyConnected: string;
  unsupportedVersion: string;
  resumeRefused: string;
  consentDenied: string;
  noDisplay: string;
  askGateway: string;
  askPin: string;
};

const en: Messages = {
  brand: (brand, supportMessage) => (supportMessage === undefined ? brand : `${brand}: ${supportMessage}`),
  connecting: (gateway) => `Connecting to ${gateway} ...`,
  waiting: (sessionName, organization) =>
    `Connected to ${organization}${sessionName === "" ? "" : ` (${sessionName})`}. Waiting for your technician ...`,
  howToStop:
    "To end the session at any time: type q and press Enter, or press Ctrl+C. To withdraw all permissions: type r and press Enter.",
  consentMarker: "=== SOS: ACCESS REQUEST ===",
  consentAsk: (technician, organization, access) =>
    access === "control"
      ? `Technician ${technician} (${organization}) asks to SEE and CONTROL your screen.`
      : `Technician ${technician} (${organization}) asks to SEE your screen.`,
  consentWarning: "Never allow this if someone contacted you unexpectedly.",
  consentChoices: (access, seconds) =>
    access === "control"
      ? `Type y to allow control (and files sent to you), o for control but no files, v to allow viewing only, n to deny, then Enter (no answer in ${seconds} s = deny): `
      : `Type y to allow viewing, n to deny, then Enter (no answer in ${seconds} s = deny): `,
  consentInvalid: "Please answer y, o, v or n.",
  continueMarker: "=== SOS: CONTINUE THE SESSION? ===",
  continueAsk: (minutes) =>
    `This support session has been running for ${minutes} minute${minutes === 1 ? "" : "s"} since you last agreed. May it continue?`,
  continueChoices: (seconds) =>
    `Type y to continue or n to end it, then Enter (no answer in ${formatWait(seconds, "en")} = the session ends): `,
  continueInvalid: "Please answer y or n.",
  continueConfirmed: "Thank you: the session continues.",
  continueDeclined: "You did not allow the session to continue. The session has ended.",
  continueUnanswered: "No answer in time: the session has ended.",
  granted: (technician, access) =>
    access === "control"
      ? `Allowed: ${technician} may see and control your screen.`
      : `Allowed: ${technician} may see your screen (view only).`,
  denied: (technician) => `Denied: ${technician} may not see your screen.`,
  timedOut: (technician) => `No answer in time: ${technician}'s request was denied.`,
  requestWithdrawn: (technician) => `Request withdrawn: ${technician} no longer asks.`,
  connected: (technician, access) =>
    access === "control"
      ? `Connected: ${technician} is now viewing and controlling your screen.`
      : `Connected: ${technician} is now viewing your screen.`,
  couldNotConnect: (technician) =>
    `Could not connect to ${technician}: no connection came up. Nobody sees your screen.`,
  connectionInterrupted: (technician) => `Connection to ${technician} interrupted. Reconnecting ...`,
  connectionRestored: (technician) => `Connection to ${technician} restored.`,
  connectionLost: (technician, seconds) =>
    `Connection to ${technician} lost: no answer for ${seconds} s. Nobody sees your screen.`,
  disconnected: (technician) => `Disconnected: ${technician} left.`,
  revoked: "Permissions withdrawn: no technician can see or control your screen now.",
  chatHint:
    "To chat with your technician: type a message and press Enter. While an access request is shown, your next line answers it.",
  chatFrom: (technician, text, time) => `[Chat ${time}] ${technician}: ${text}`,
  chatJoined: (technician) => `[Chat] ${technician} joined the chat.`,
  chatLeft: (technician) => `[Chat] ${technician} left the chat.`,
  connectedNow: (technicians) =>
    `Connected: ${technicians
      .map(
        (t) =>
          `${t.name} (${t.access === "control" ? "control" : t.access === "view" ? "view only" : "chat only"}${t.viewing ? ", sees your screen now" : ""})`,
      )
      .join(", ")}`,
  allLeft: "No technician is connected any more. Nobody sees your screen.",
  chatTooLong: (max) => `Not sent: a chat message can be at most ${max} characters long.`,
  systemInfoSent: (technician) =>
    `System information sent to ${technician}: system and version, computer name, user, uptime, processor, memory, disks, screens, network interfaces.`,
  recordingStarted: (technician) =>
    `● RECORDING: ${technician} is recording what they see of your screen from now on (saved on your support team's server).`,
  recordingStopped: (technician) => `Recording by ${technician} stopped.`,
  recordingNow: (technicians) => `● RECORDING by ${technicians.join(", ")}.`,
  chatNotSent: (code) =>
    code === "CHAT_FULL"
      ? "Not sent: this session's chat is full."
      : code === "CHAT_TOO_FAST"
        ? "Not sent: too many lines at once. Wait a moment."
        : `Not sent (${code}).`,
  reconnecting: "Connection to the gateway lost. Reconnecting ...",
  reconnected: "Connected to the gateway again.",
  fileIncoming: (technician, name, size, dir) =>
    `[File] ${technician} sends you "${name}" (${bytes(size, "en")}), saved to ${dir}. Type x and Enter to stop it.`,
  fileProgress: (name, percent, speed) => `[File] "${name}": ${percent} % (${bytes(speed, "en")}/s)`,
  fileSaved: (path, size, speed) =>
    `[File] Saved: ${path} (${bytes(size, "en")}, ${bytes(speed, "en")}/s, SHA-256 checked).`,
  fileSent: (name, technician, speed) =>
    `[File] "${name}" received by ${technician} (${bytes(speed, "en")}/s, SHA-256 checked).`,
  fileOffered: (name, size, technician) =>
    `[File] "${name}" (${bytes(size, "en")}) offered to ${technician}; it goes once they take it. Type x and Enter to withdraw it.`,
  fileFailed: (name, code) =>
    `[File] "${name}" failed (${code === "HASH_MISMATCH" ? "the data did not match its checksum" : code === "WRITE_FAILED" ? "could not be written" : code === "READ_FAILED" ? "could not be read" : code === "INTERRUPTED" ? "the connection did not come back in time" : code}); nothing was kept.`,
  fileInterrupted: (name, seconds) =>
    `[File] "${name}": connection lost; it goes on if the connection is back within ${seconds} s.`,
  fileResumed: (name, percent) => `[File] "${name}": connection back, resuming at ${percent} %.`,
  fileCancelled: (name, byUs) =>
    byUs
      ? `[File] "${name}" stopped; nothing was kept.`
      : `[File] "${name}" was cancelled by the technician; nothing was kept.`,
  fileRefused: (technician, name, size, code) =>
    `[File] Refused "${name}" (${bytes(size, "en")}) from ${technician}: ${code === "FILES_REFUSED" ? "you turned incoming files off" : code === "NO_CONTROL" ? "no permission to control" : code === "TOO_LARGE" ? "too large" : code}.`,
  fileNotOffered: (path, code) =>
    `[File] Not offered: ${path} ${code === "TOO_LARGE" ? "is too large" : code === "TOO_MANY" ? "(too many files at once)" : "cannot be read or is not a file"}.`,
  fileNobody: "[File] Not offered: no technician with permission to control is connected.",
  fileUsage: "To offer a file to your technician: type f, a space and the file's path, then Enter.",
  filesCancelled: (count) =>
    count === 0 ? "[File] No file transfer to stop." : `[File] Stopped ${count} file transfer(s).`,
  filesSlow:
    "[File] Fast file transfer is not available on this computer (its network library did not load): files still go, but more slowly.",
  help: "Commands: q = end the session, r = withdraw all permissions, f <path> = offer a file to your technician, x = stop all file transfers, ? = this help. Any other line is sent to your technician as a chat message.",
  endedByUser: "Session ended.",
  closedByTechnician: "The technician closed the session.",
  expired: "The session has expired.",
  deleted: "The session was deleted.",
  replaced: "This session was opened by another SOS app.",
  unknownSession: "No session has this PIN or link. Check it and try again.",
  sessionClosed: "This session is closed or has expired. Ask your technician for a new one.",
  gatewayUnreachable: (gateway) =>
    `Cannot reach the gateway at ${gateway}. Check the address and your connection.`,
  certificateRefused: (gateway, problem) =>
    `The certificate of ${gateway} is not trusted (${problem}); not connecting. If your team runs its own certificate authority, start with --ca <file>.`,
  rateLimited: (seconds) =>
    seconds === undefined
      ? "Too many attempts. Try again later."
      : `Too many attempts. Try again in ${seconds} s.`,
  alreadyConnected: "Another SOS app is already connected to this session.",
  unsupportedVersion: "This SOS app does not match the gateway's version. Download it again.",
  resumeRefused: "The gateway no longer knows this app's session. Start again with your PIN or link.",
  consentDenied: "You denied the request. The session has ended.",
  noDisplay: "No screen to share: start the SOS app inside your desktop session.",
  askGateway: "Enter your team gateway address: ",
  askPin: "Enter your session PIN (9 digits): ",
};

const de: Messages = {
  brand: (brand, supportMessage) => (supportMessage === undefined ? brand : `${brand}: ${supportMessage}`),
  connecting: (gateway) => `Verbindung zu ${gateway} wird hergestellt ...`,
  waiting: (sessionName, organization) =>
    `Verbunden mit ${organization}${sessionName === "" ? "" : ` (${sessionName})`}. Warten auf Ihren Techniker ...`,
  howToStop:
    "Sitzung jederzeit beenden: q eingeben und Enter drücken, oder Strg+C. Alle Berechtigungen entziehen: r eingeben und Enter drücken.",
  consentMarker: "=== SOS: ZUGRIFFSANFRAGE ===",
  consentAsk: (technician, organization, access) =>
    access === "control"
      ? `Techniker ${technician} (${organization}) möchte Ihren Bildschirm SEHEN und STEUERN.`
      : `Techniker ${technician} (${organization}) möchte Ihren Bildschirm SEHEN.`,
  consentWarning: "Erlauben Sie das nie, wenn Sie unerwartet kontaktiert wurden.",
  consentChoices: (access, seconds) =>
    access === "control"
      ? `j = Steuerung erlauben (auch Dateien an Sie), o = Steuerung ohne Dateien, v = nur Ansehen erlauben, n = ablehnen, dann Enter (keine Antwort in ${seconds} s = ablehnen): `
      : `j = Ansehen erlauben, n = ablehnen, dann Enter (keine Antwort in ${seconds} s = ablehnen): `,
  consentInvalid: "Bitte mit j, o, v oder n antworten.",
  continueMarker: "=== SOS: SITZUNG FORTSETZEN? ===",
  continueAsk: (minutes) =>
    `Diese Support-Sitzung läuft seit Ihrer letzten Zustimmung ${minutes} Minute${minutes === 1 ? "" : "n"}. Darf sie weiterlaufen?`,
  continueChoices: (seconds) =>
    `j = fortsetzen, n = beenden, dann Enter (keine Antwort in ${formatWait(seconds, "de")} = die Sitzung endet): `,
  continueInvalid: "Bitte mit j oder n antworten.",
  continueConfirmed: "Danke: Die Sitzung wird fortgesetzt.",
  continueDeclined: "Sie haben die Fortsetzung nicht erlaubt. Die Sitzung ist beendet.",
  continueUnanswered: "Keine Antwort: Die Sitzung ist beendet.",
  granted: (technician, access) =>
    access === "control"
      ? `Erlaubt: ${technician} darf Ihren Bildschirm sehen und steuern.`
      : `Erlaubt: ${technician} darf Ihren Bildschirm sehen (nur Ansehen).`,
  denied: (technician) => `Abgelehnt: ${technician} darf Ihren Bildschirm nicht sehen.`,
  timedOut: (technician) => `Keine Antwort: Die Anfrage von ${technician} wurde abgelehnt.`,
  requestWithdrawn: (technician) => `Anfrage zurückgezogen: ${technician} fragt nicht mehr.`,
  connected: (technician, access) =>
    access === "control"
      ? `Verbunden: ${technician} sieht und steuert jetzt Ihren Bildschirm.`
      : `Verbunden: ${technician} sieht jetzt Ihren Bildschirm.`,
  couldNotConnect: (technician) =>
    `Keine Verbindung zu ${technician} möglich. Niemand sieht Ihren Bildschirm.`,
  connectionInterrupted: (technician) => `Verbindung zu ${technician} unterbrochen. Neuer Versuch ...`,
  connectionRestored: (technician) => `Verbindung zu ${technician} wiederhergestellt.`,
  connectionLost: (technician, seconds) =>
    `Verbindung zu ${technician} verloren: ${seconds} s keine Antwort. Niemand sieht Ihren Bildschirm.`,
  disconnected: (technician) => `Getrennt: ${technician} hat die Verbindung beendet.`,
  revoked: "Berechtigungen entzogen: Kein Techniker kann Ihren Bildschirm jetzt sehen oder steuern.",
  chatHint:
    "Mit Ihrem Techniker chatten: Nachricht eingeben und Enter drücken. Solange eine Zugriffsanfrage angezeigt wird, beantwortet Ihre nächste Zeile diese.",
  chatFrom: (technician, text, time) => `[Chat ${time}] ${technician}: ${text}`,
  chatJoined: (technician) => `[Chat] ${technician} ist dem Chat beigetreten.`,
  chatLeft: (technician) => `[Chat] ${technician} hat den Chat verlassen.`,
  connectedNow: (technicians) =>
    `Verbunden: ${technicians
      .map(
        (t) =>
          `${t.name} (${t.access === "control" ? "Steuerung" : t.access === "view" ? "nur Ansehen" : "nur Chat"}${t.viewing ? ", sieht jetzt Ihren Bildschirm" : ""})`,
      )
      .join(", ")}`,
  allLeft: "Kein Techniker ist mehr verbunden. Niemand sieht Ihren Bildschirm.",
  chatTooLong: (max) => `Nicht gesendet: Eine Chat-Nachricht darf höchstens ${max} Zeichen lang sein.`,
  systemInfoSent: (technician) =>
    `Systeminformationen an ${technician} gesendet: System und Version, Computername, Benutzer, Laufzeit, Prozessor, Arbeitsspeicher, Laufwerke, Bildschirme, Netzwerkschnittstellen.`,
  recordingStarted: (technician) =>
    `● AUFZEICHNUNG: ${technician} zeichnet ab jetzt auf, was er oder sie von Ihrem Bildschirm sieht (gespeichert auf dem Server Ihres Support-Teams).`,
  recordingStopped: (technician) => `Aufzeichnung durch ${technician} beendet.`,
  recordingNow: (technicians) => `● AUFZEICHNUNG durch ${technicians.join(", ")}.`,
  chatNotSent: (code) =>
    code === "CHAT_FULL"
      ? "Nicht gesendet: Der Chat dieser Sitzung ist voll."
      : code === "CHAT_TOO_FAST"
        ? "Nicht gesendet: zu viele Zeilen auf einmal. Bitte einen Moment warten."
        : `Nicht gesendet (${code}).`,
  reconnecting: "Verbindung zum Gateway unterbrochen. Neuer Versuch ...",
  reconnected: "Wieder mit dem Gateway verbunden.",
  fileIncoming: (technician, name, size, dir) =>
    `[Datei] ${technician} sendet Ihnen „${name}“ (${bytes(size, "de")}), gespeichert in ${dir}. Zum Abbrechen x eingeben und Enter drücken.`,
  fileProgress: (name, percent, speed) => `[Datei] „${name}“: ${percent} % (${bytes(speed, "de")}/s)`,
  fileSaved: (path, size, speed) =>
    `[Datei] Gespeichert: ${path} (${bytes(size, "de")}, ${bytes(speed, "de")}/s, SHA-256 geprüft).`,
  fileSent: (name, technician, speed) =>
    `[Datei] „${name}“ von ${technician} empfangen (${bytes(speed, "de")}/s, SHA-256 geprüft).`,
  fileOffered: (name, size, technician) =>
    `[Datei] „${name}“ (${bytes(size, "de")}) ${technician} angeboten; die Übertragung beginnt, sobald sie angenommen wird. Zum Zurückziehen x eingeben und Enter drücken.`,
  fileFailed: (name, code) =>
    `[Datei] „${name}“ fehlgeschlagen (${code === "HASH_MISMATCH" ? "die Daten passen nicht zur Prüfsumme" : code === "WRITE_FAILED" ? "konnte nicht geschrieben werden" : code === "READ_FAILED" ? "konnte nicht gelesen werden" : code === "INTERRUPTED" ? "die Verbindung kam nicht rechtzeitig zurück" : code}); nichts wurde behalten.`,
  fileInterrupted: (name, seconds) =>
    `[Datei] „${name}“: Verbindung unterbrochen; die Übertragung geht weiter, wenn die Verbindung innerhalb von ${seconds} s zurück ist.`,
  fileResumed: (name, percent) => `[Datei] „${name}“: Verbindung wieder da, Fortsetzung bei ${percent} %.`,
  fileCancelled: (name, byUs) =>
    byUs
      ? `[Datei] „${name}“ abgebrochen; nichts wurde behalten.`
      : `[Datei] „${name}“ wurde vom Techniker abgebrochen; nichts wurde behalten.`,
  fileRefused: (technician, name, size, code) =>
    `[Datei] „${name}“ (${bytes(size, "de")}) von ${technician} abgelehnt: ${code === "FILES_REFUSED" ? "Sie haben eingehende Dateien abgeschaltet" : code === "NO_CONTROL" ? "keine Berechtigung zum Steuern" : code === "TOO_LARGE" ? "zu groß" : code}.`,
  fileNotOffered: (path, code) =>
    `[Datei] Nicht angeboten: ${path} ${code === "TOO_LARGE" ? "ist zu groß" : code === "TOO_MANY" ? "(zu viele Dateien auf einmal)" : "ist nicht lesbar oder keine Datei"}.`,
  fileNobody: "[Datei] Nicht angeboten: Kein Techniker mit Berechtigung zum Steuern ist verbunden.",
  fileUsage:
    "Eine Datei an Ihren Techniker anbieten: f, ein Leerzeichen und den Pfad der Datei eingeben, dann Enter.",
  filesCancelled: (count) =>
    count === 0
      ? "[Datei] Keine Dateiübertragung zum Abbrechen."
      : `[Datei] ${count} Dateiübertragung(en) abgebrochen.`,
  filesSlow:
    "[Datei] Schnelle Dateiübertragung ist auf diesem Computer nicht verfügbar (ihre Netzwerkbibliothek wurde nicht geladen): Dateien gehen weiter, aber langsamer.",
  help: "Befehle: q = Sitzung beenden, r = alle Berechtigungen entziehen, f <Pfad> = Ihrem Techniker eine Datei anbieten, x = alle Dateiübertragungen abbrechen, ? = diese Hilfe. Jede andere Zeile geht als Chat-Nachricht an Ihren Techniker.",
  endedByUser: "Sitzung beendet.",
  closedByTechnician: "Der Techniker hat die Sitzung geschlossen.",
  expired: "Die Sitzung ist abgelaufen.",
  deleted: "Die Sitzung wurde gelöscht.",
  replaced: "Diese Sitzung wurde von einer anderen SOS-App geöffnet.",
  unknownSession: "Keine Sitzung mit dieser PIN oder diesem Link. Bitte prüfen und erneut versuchen.",
  sessionClosed: "Diese Sitzung ist geschlossen oder abgelaufen. Bitten Sie Ihren Techniker um eine neue.",
  gatewayUnreachable: (gateway) =>
    `Das Gateway ${gateway} ist nicht erreichbar. Bitte Adresse und Verbindung prüfen.`,
  certificateRefused: (gateway, problem) =>
    `Dem Zertifikat von ${gateway} wird nicht vertraut (${problem}); keine Verbindung. Betreibt Ihr Team eine eigene Zertifizierungsstelle, starten Sie mit --ca <Datei>.`,
  rateLimited: (seconds) =>
    seconds === undefined
      ? "Zu viele Versuche. Bitte später erneut versuchen."
      : `Zu viele Versuche. Bitte in ${seconds} s erneut versuchen.`,
  alreadyConnected: "Mit dieser Sitzung ist bereits eine andere SOS-App verbunden.",
  unsupportedVersion: "Diese SOS-App passt nicht zur Version des Gateways. Bitte neu herunterladen.",
  resumeRefused: "Das Gateway kennt die Sitzung dieser App nicht mehr. Bitte mit PIN oder Link neu beginnen.",
  consentDenied: "Sie haben die Anfrage abgelehnt. Die Sitzung ist beendet.",
  noDisplay: "Kein Bildschirm zum Teilen: Starten Sie die SOS-App in Ihrer Desktop-Sitzung.",
  askGateway: "Adresse Ihres Team-Gateways eingeben: ",
  askPin: "Sitzungs-PIN eingeben (9 Ziffern): ",
};

/** The builders (the entries with parameters); each must be listed in inert() below. */
type Builders = {
  [K in keyof Messages as Messages[K] extends string ? never : K]: Messages[K];
};

const field = (text: string) => inertText(text, MAX_PRINTED_FIELD_LENGTH);
/** A file name as offered (a technician's, before sanitizing): inert, at most a file name long. */
const fileName = (text: string) => inertText(text, MAX_FILE_NAME_CHARS);

/** Bytes as the end user reads them: "512 B", "12.3 MB" ("12,3 MB" in German). */
export function bytes(count: number, language: Language): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const text = unit === 0 ? String(Math.round(value)) : value.toFixed(value < 10 ? 2 : 1);
  return `${language === "de" ? text.replace(".", ",") : text} ${units[unit]}`;
}

/**
 * The one place outside text enters what the agent prints: each builder's text parameters are
 * made inert (controls and invisible format characters shown as visible escapes, length cut).
 */
function inert(raw: Messages): Messages {
  const builders: Builders = {
    brand: (brand, supportMessage) =>
      raw.brand(
        inertText(brand, MAX_BRAND_LENGTH),
        supportMessage === undefined ? undefined : inertText(supportMessage, MAX_SUPPORT_MESSAGE_LENGTH),
      ),
    connecting: (gateway) => raw.connecting(field(gateway)),
    waiting: (sessionName, organization) => raw.waiting(field(sessionName), field(organization)),
    consentAsk: (technician, organization, access) =>
      raw.consentAsk(field(technician), field(organization), access),
    consentChoices: (access, seconds) => raw.consentChoices(access, seconds),
    continueAsk: (minutes) => raw.continueAsk(minutes),
    continueChoices: (seconds) => raw.continueChoices(seconds),
    granted: (technician, access) => raw.granted(field(technician), access),
    denied: (technician) => raw.denied(field(technician)),
    timedOut: (technician) => raw.timedOut(field(technician)),
    requestWithdrawn: (technician) => raw.requestWithdrawn(field(technician)),
    connected: (technician, access) => raw.connected(field(technician), access),
    couldNotConnect: (technician) => raw.couldNotConnect(field(technician)),
    connectionInterrupted: (technician) => raw.connectionInterrupted(field(technician)),
    connectionRestored: (technician) => raw.connectionRestored(field(technician)),
    connectionLost: (technician, seconds) => raw.connectionLost(field(technician), seconds),
    disconnected: (technician) => raw.disconnected(field(technician)),
    gatewayUnreachable: (gateway) => raw.gatewayUnreachable(field(gateway)),
    certificateRefused: (gateway, problem) => raw.certificateRefused(field(gateway), field(problem)),
    rateLimited: (seconds) => raw.rateLimited(seconds),
    chatFrom: (technician, text, time) =>
      raw.chatFrom(field(technician), inertText(text, MAX_CHAT_LINE_CHARS), field(time)),
    chatJoined: (technician) => raw.chatJoined(field(technician)),
    chatLeft: (technician) => raw.chatLeft(field(technician)),
    connectedNow: (technicians) => raw.connectedNow(technicians.map((t) => ({ ...t, name: field(t.name) }))),
    chatTooLong: (max) => raw.chatTooLong(max),
    systemInfoSent: (technician) => raw.systemInfoSent(field(technician)),
    recordingStarted: (technician) => raw.recordingStarted(field(technician)),
    recordingStopped: (technician) => raw.recordingStopped(field(technician)),
    recordingNow: (technicians) => raw.recordingNow(technicians.map((name) => field(name))),
    chatNotSent: (code) => raw.chatNotSent(field(code)),
    fileIncoming: (technician, name, size, dir) =>
      raw.fileIncoming(field(technician), fileName(name), size, field(dir)),
    fileProgress: (name, percent, speed) => raw.fileProgress(fileName(name), percent, speed),
    fileSaved: (path, size, speed) => raw.fileSaved(inertText(path, MAX_PRINTED_OUTCOME_LENGTH), size, speed),
    fileSent: (name, technician, speed) => raw.fileSent(fileName(name), field(technician), speed),
    fileOffered: (name, size, technician) => raw.fileOffered(fileName(name), size, field(technician)),
    fileFailed: (name, code) => raw.fileFailed(fileName(name), field(code)),
    fileInterrupted: (name, seconds) => raw.fileInterrupted(fileName(name), seconds),
    fileResumed: (name, percent) => raw.fileResumed(fileName(name), percent),
    fileCancelled: (name, byUs) => raw.fileCancelled(fileName(name), byUs),
    fileRefused: (technician, name, size, code) =>
      raw.fileRefused(field(technician), fileName(name), size, field(code)),
    fileNotOffered: (path, code) =>
      raw.fileNotOffered(inertText(path, MAX_PRINTED_OUTCOME_LENGTH), field(code)),
    filesCancelled: (count) => raw.filesCancelled(count),
  };
  return { ...raw, ...builders };
}

const CATALOG: Readonly<Record<Language, Messages>> = { en: inert(en), de: inert(de) };

export function messagesFor(language: Language): Messages {
  return CATALOG[language];
}

/** The system's language: German for a German locale, English otherwise. */
export function systemLanguage(env: NodeJS.ProcessEnv = process.env): Language {
  const locale =
    env.LC_ALL || env.LC_MESSAGES || env.LANG || Intl.DateTimeFormat().resolvedOptions().locale || "en";
  return /^de([_-]|$)/i.test(locale) ? "de" : "en";
}

/**
 * What the end user is told when a technician's peer ends: the connection never came up, the
 * path went silent (`seconds`), or the technician left.
 */
export function peerEnded(
  messages: Messages,
  technician: string,
  reason: string,
  flowed: boolean,
  seconds: number,
): string {
  if (reason === PEER_END_REASONS.consentExpired) return messages.connectionLost(technician, seconds);
  const failure = Object.values<string>(PEER_END_REASONS).includes(reason);
  return failure && !flowed ? messages.couldNotConnect(technician) : messages.disconnected(technician);
}

/** "4 min 30 s", "45 s": how long the end user has left to answer. */
function formatWait(seconds: number, language: Language): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `${rest} s`;
  const unit = language === "de" ? "Min." : "min";
  return rest === 0 ? `${minutes} ${unit}` : `${minutes} ${unit} ${rest} s`;
}

/** Whether the session may continue: y/yes/j/ja, n/no/nein; anything else is no answer (undefined). */
export function parseContinueAnswer(line: string): ContinueAnswer | undefined {
  const answer = line.trim().toLowerCase();
  if (["y", "yes", "j", "ja"].includes(answer)) return "yes";
  if (["n", "no", "nein"].includes(answer)) return "no";
  return undefined;
}

/** What an answer line means: y/yes/j/ja allow, o control (without incoming files), v view only, anything else deny. */
export function parseConsentAnswer(line: string, access: AccessMode): ConsentDecision {
  const answer = line.trim().toLowerCase();
  if (["y", "yes", "j", "ja"].includes(answer)) return access;
  if (answer === "o") return access;
  if (answer === "v") return "view";
  return "deny";
}

/** Whether the answer allows control but turns incoming files off (o, "ohne Dateien"). */
export function refusesFiles(line: string): boolean {
  return line.trim().toLowerCase() === "o";
}
