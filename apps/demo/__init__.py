"""Demo context: the commands that set a venue up for people to try (`seed_demo`) and
create funded traders (`create_trader`). It sits above every app: it only calls their
public services (accounts for users and tokens, `ensure_user`; orders for instruments;
processing for deposits), and no app imports it. It owns no data."""
