import { AdminPage } from "./admin/AdminPage.tsx";
import { SignInPage } from "./auth/SignInPage.tsx";
import { ServiceDesk } from "./desk/ServiceDesk.tsx";
import { useI18n } from "./lib/i18n.ts";
import { route } from "./lib/router.ts";
import { useStore } from "./lib/store.ts";
import { RemoteView } from "./remote/RemoteView.tsx";
import { auth } from "./state/stores.ts";
import { NoticeLine } from "./ui/NoticeLine.tsx";
import { Sidebar } from "./ui/Sidebar.tsx";

export function App() {
  const { t } = useI18n();
  const current = useStore(auth);
  const where = useStore(route);
  if (current.kind === "loading") {
    return (
      <main class="loading">
        <p>{t("app.loading")}</p>
        <NoticeLine />
      </main>
    );
  }
  if (current.kind === "signedOut") return <SignInPage setupOpen={current.setupOpen} />;
  const me = current.me;
  if (where.page === "remote") return <RemoteView sessionId={where.sessionId} me={me.technician} />;
  return (
    <div class="shell">
      <Sidebar me={me} route={where} />
      <main class="content">
        <NoticeLine />
        {where.page === "admin" && me.technician.role === "admin" ? (
          <AdminPage section={where.section} />
        ) : (
          <ServiceDesk channelId={where.page === "desk" ? where.channelId : "home"} me={me} />
        )}
      </main>
    </div>
  );
}
