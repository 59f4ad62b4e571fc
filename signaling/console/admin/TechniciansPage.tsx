import type { Technician } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { technicians } from "../state/stores.ts";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";
import { NewTechnicianForm } from "./NewTechnicianForm.tsx";

/** Replaces one technician in the shared list with the gateway's answer. */
export function storeTechnician(changed: Technician): void {
  technicians.update((list) =>
    list.some((technician) => technician.id === changed.id)
      ? list.map((technician) => (technician.id === changed.id ? changed : technician))
      : [...list, changed],
  );
}

export function TechniciansPage() {
  const { t } = useI18n();
  const list = useStore(technicians);
  const action = useAction();
  /** Shows the change at once (a checkbox must not snap back), and undoes it if refused. */
  const patch = (
    technician: Technician,
    change: Partial<Pick<Technician, "disabled">> & {
      permissions?: Partial<Technician["permissions"]>;
    },
  ): void => {
    storeTechnician({
      ...technician,
      ...(change.disabled === undefined ? {} : { disabled: change.disabled }),
      permissions: { ...technician.permissions, ...change.permissions },
    });
    void action
      .run(async () => {
        const answer = await api.updateTechnician(technician.id, change);
        storeTechnician(answer.technician);
      }, t("admin.saved"))
      .then((ok) => ok || storeTechnician(technician));
  };
  return (
    <section class="admin" aria-labelledby="technicians-title">
      <h1 id="technicians-title">{t("admin.technicians.title")}</h1>
      <table aria-label={t("admin.technicians.list")}>
        <thead>
          <tr>
            <th scope="col">{t("admin.name")}</th>
            <th scope="col">{t("admin.email")}</th>
            <th scope="col">{t("admin.role")}</th>
            <th scope="col">{t("admin.attendedAccess")}</th>
            <th scope="col">{t("admin.shareSessions")}</th>
            <th scope="col">{t("admin.viewRecordings")}</th>
            <th scope="col">{t("admin.state")}</th>
          </tr>
        </thead>
        <tbody>
          {list.map((technician) => (
            <tr key={technician.id}>
              <td>{technician.name}</td>
              <td>{technician.email}</td>
              <td>{t(`admin.role.${technician.role}`)}</td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${t("admin.attendedAccess")}: ${technician.name}`}
                  checked={technician.permissions.attendedAccess}
                  onChange={(event) =>
                    patch(technician, { permissions: { attendedAccess: event.currentTarget.checked } })
                  }
                />
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${t("admin.shareSessions")}: ${technician.name}`}
                  checked={technician.permissions.shareSessions}
                  onChange={(event) =>
                    patch(technician, { permissions: { shareSessions: event.currentTarget.checked } })
                  }
                />
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${t("admin.viewRecordings")}: ${technician.name}`}
                  checked={technician.permissions.viewRecordings || technician.role === "admin"}
                  disabled={technician.role === "admin"}
                  title={technician.role === "admin" ? t("admin.viewRecordings.admin") : undefined}
                  onChange={(event) =>
                    patch(technician, { permissions: { viewRecordings: event.currentTarget.checked } })
                  }
                />
              </td>
              <td>
                {technician.disabled ? t("admin.disabled") : t("admin.enabled")}{" "}
                <button
                  type="button"
                  disabled={action.busy}
                  onClick={() => patch(technician, { disabled: !technician.disabled })}
                >
                  {technician.disabled
                    ? t("admin.enable", { name: technician.name })
                    : t("admin.disable", { name: technician.name })}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Outcome error={action.error} info={action.info} />
      <NewTechnicianForm onCreated={storeTechnician} />
    </section>
  );
}
