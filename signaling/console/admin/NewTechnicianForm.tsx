import { useState } from "preact/hooks";
import type { Technician } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { Outcome } from "../ui/Messages.tsx";
import { SelectField } from "../ui/SelectField.tsx";
import { useAction } from "../ui/use-action.ts";

const EMPTY = {
  name: "",
  email: "",
  password: "",
  role: "technician" as "admin" | "technician",
  attendedAccess: true,
  shareSessions: false,
  viewRecordings: false,
};

export function NewTechnicianForm(props: { onCreated: (technician: Technician) => void }) {
  const { t } = useI18n();
  const [form, setForm] = useState(EMPTY);
  const action = useAction();
  const text = (key: "name" | "email" | "password") => ({
    value: form[key],
    onInput: (event: { currentTarget: HTMLInputElement }) =>
      setForm({ ...form, [key]: event.currentTarget.value }),
  });
  return (
    <form
      class="admin-form"
      aria-labelledby="new-technician-title"
      onSubmit={(event) => {
        event.preventDefault();
        const { attendedAccess, shareSessions, viewRecordings, ...rest } = form;
        void action.run(
          async () => {
            const answer = await api.createTechnician({
              ...rest,
              permissions: { attendedAccess, shareSessions, viewRecordings },
            });
            props.onCreated(answer.technician);
            setForm(EMPTY);
          },
          t("admin.created", { name: form.name }),
        );
      }}
    >
      <h2 id="new-technician-title">{t("admin.technicians.add")}</h2>
      <label>
        {t("admin.name")}
        <input required maxLength={100} {...text("name")} />
      </label>
      <label>
        {t("admin.email")}
        <input type="email" required autocomplete="off" {...text("email")} />
      </label>
      <label>
        {t("admin.password")}
        <input type="password" required minLength={10} autocomplete="new-password" {...text("password")} />
      </label>
      <SelectField
        label={t("admin.role")}
        value={form.role}
        onChange={(role) => setForm({ ...form, role: role === "admin" ? "admin" : "technician" })}
      >
        <option value="technician">{t("admin.role.technician")}</option>
        <option value="admin">{t("admin.role.admin")}</option>
      </SelectField>
      <label class="inline">
        <input
          type="checkbox"
          checked={form.attendedAccess}
          onChange={(event) => setForm({ ...form, attendedAccess: event.currentTarget.checked })}
        />
        {t("admin.attendedAccess")}
      </label>
      <label class="inline">
        <input
          type="checkbox"
          checked={form.shareSessions}
          onChange={(event) => setForm({ ...form, shareSessions: event.currentTarget.checked })}
        />
        {t("admin.shareSessions")}
      </label>
      <label class="inline">
        <input
          type="checkbox"
          checked={form.viewRecordings}
          onChange={(event) => setForm({ ...form, viewRecordings: event.currentTarget.checked })}
        />
        {t("admin.viewRecordings")}
      </label>
      <Outcome error={action.error} info={action.info} />
      <button type="submit" class="primary" disabled={action.busy}>
        {t("admin.create")}
      </button>
    </form>
  );
}
