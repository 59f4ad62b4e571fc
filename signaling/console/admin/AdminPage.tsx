import type { AdminSection } from "../lib/router.ts";
import { AuditPage } from "./AuditPage.tsx";
import { BuildsPage } from "./BuildsPage.tsx";
import { ChannelsPage } from "./ChannelsPage.tsx";
import { TechniciansPage } from "./TechniciansPage.tsx";

export function AdminPage(props: { section: AdminSection }) {
  switch (props.section) {
    case "technicians":
      return <TechniciansPage />;
    case "channels":
      return <ChannelsPage />;
    case "audit":
      return <AuditPage />;
    case "builds":
      return <BuildsPage />;
  }
}
