import type { Channel } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { refreshDirectory } from "../state/connection.ts";
import { channels, technicians } from "../state/stores.ts";
import { ChannelForm } from "./ChannelForm.tsx";
import { OrganizationForm } from "./OrganizationForm.tsx";

function storeChannel(changed: Channel): void {
  channels.update((list) =>
    list.some((channel) => channel.id === changed.id)
      ? list.map((channel) => (channel.id === changed.id ? changed : channel))
      : [...list, changed],
  );
}

export function ChannelsPage() {
  const { t } = useI18n();
  const list = useStore(channels).filter((channel) => channel.kind === "team");
  const people = useStore(technicians);
  return (
    <section class="admin" aria-labelledby="channels-title">
      <h1 id="channels-title">{t("admin.channels.title")}</h1>
      <OrganizationForm />
      <ChannelForm
        title={t("admin.channels.add")}
        technicians={people}
        submitLabel={t("admin.create")}
        doneText={t("admin.saved")}
        onSubmit={async (fields) => {
          const answer = await api.createChannel(fields);
          storeChannel(answer.channel);
          // The list the gateway hands out is ordered and filtered by access: read it again.
          await refreshDirectory();
        }}
      />
      <h2>{t("admin.channels.list")}</h2>
      {list.map((channel) => (
        <ChannelForm
          key={channel.id}
          title={t("admin.channels.edit", { name: channel.name })}
          channel={channel}
          technicians={people}
          submitLabel={t("admin.save")}
          doneText={t("admin.saved")}
          onSubmit={async (fields) => storeChannel((await api.updateChannel(channel.id, fields)).channel)}
        />
      ))}
    </section>
  );
}
