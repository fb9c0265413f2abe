import { cookie, LOGIN_URL, LOGOUT_URL } from "../services/api";
import type { Session } from "../hooks/useSession";

/** Log in with Django's login page; log out with a POST carrying the CSRF token. */
export function SessionControls({ session }: { session: Session }) {
  if (session === "signed-in") {
    return (
      <form method="post" action={LOGOUT_URL}>
        <input type="hidden" name="csrfmiddlewaretoken" value={cookie("csrftoken") ?? ""} />
        <input type="hidden" name="next" value="/" />
        <button type="submit" className="link">Log out</button>
      </form>
    );
  }
  if (session === "signed-out") return <a className="button primary" href={LOGIN_URL}>Log in</a>;
  return null;
}
