/**
 * The console page's CSS. Wide screens: the sidebar, the channel, and a side panel whose tabs are the
 * emulated fleet and the open thread. Phones (≤ 760 px): one column, and the tabs switch between the
 * channel, the thread and the fleet.
 */
export const pageStyle = String.raw`
  :root { --line: #e2e2e2; --muted: #616061; --link: #1264a3; --green: #007a5a; --red: #e01e5a; --amber: #b86e00; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.46 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif, "Noto Color Emoji"; color: #1d1c1d;
    display: grid; grid-template-columns: 200px minmax(0, 1fr) 460px; height: 100vh; height: 100dvh; }
  nav { background: #3f0e40; color: #cfc3cf; padding: 14px; overflow-y: auto; }
  nav h1 { color: #fff; font-size: 18px; margin: 0 0 14px; }
  nav .channel { background: #1164a3; color: #fff; border-radius: 6px; padding: 4px 10px; }
  nav label { display: block; margin-top: 22px; font-size: 13px; }
  nav select { width: 100%; margin-top: 6px; padding: 4px; font-size: 13px; }
  nav p { font-size: 12px; line-height: 1.4; }
  main, aside, .pane { display: flex; flex-direction: column; min-height: 0; min-width: 0; }
  aside { border-left: 1px solid var(--line); }
  header { border-bottom: 1px solid var(--line); padding: 12px 18px; font-weight: 700; }
  .tabs { display: flex; border-bottom: 1px solid var(--line); }
  .tabs button { border: 0; background: none; padding: 12px 14px 10px; font: inherit; font-weight: 700; color: var(--muted); cursor: pointer; border-bottom: 3px solid transparent; }
  .tabs button.on-side { color: #1d1c1d; border-bottom-color: var(--link); }
  .tabs .close { margin-left: 6px; font-weight: 400; }
  .tabs .phone-only, .tabs .hidden { display: none; }
  .pane { display: none; flex: 1; }
  body.side-thread #thread-pane, body.side-fleet #fleet-pane { display: flex; }
  .feed { flex: 1; overflow-y: auto; padding: 8px 0; }
  .msg { display: grid; grid-template-columns: 40px minmax(0, 1fr); gap: 8px; padding: 8px 18px; overflow-wrap: anywhere; }
  .msg:hover { background: #f8f8f8; }
  .avatar { width: 36px; height: 36px; border-radius: 6px; background: #2eb67d; color: #fff; display: grid; place-items: center; font-weight: 700; }
  .who { font-weight: 700; } .who small { font-weight: 400; color: var(--muted); margin-left: 6px; }
  .edited { color: var(--muted); font-size: 12px; }
  .ephemeral { background: #f4ede4; }
  .ephemeral .note { color: var(--muted); font-size: 12px; }
  .ephemeral .dismiss { border: 0; background: none; color: var(--link); cursor: pointer; font-size: 12px; padding: 0 0 0 8px; }
  .section { margin: 2px 0; white-space: normal; }
  .context { color: var(--muted); font-size: 13px; margin: 4px 0; }
  .actions { margin: 8px 0 4px; display: flex; flex-wrap: wrap; gap: 8px; }
  .input input { width: 100%; max-width: 420px; padding: 4px 6px; border: 1px solid #bbb; border-radius: 4px; margin-top: 6px; }
  .actions button { border: 1px solid #bbb; background: #fff; border-radius: 4px; padding: 4px 14px; font-weight: 700; cursor: pointer; }
  .actions button.primary { background: var(--green); border-color: var(--green); color: #fff; }
  .actions button.danger { background: #fff; border-color: var(--red); color: var(--red); }
  .replies { color: var(--link); font-size: 13px; font-weight: 700; cursor: pointer; margin-top: 4px; }
  .broadcast { color: var(--muted); font-size: 12px; }
  code { background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 0 3px; color: #c01343; font-size: 12px; }
  pre { background: #f6f6f6; border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; margin: 4px 0; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
  a { color: var(--link); }
  form { border: 1px solid #bbb; border-radius: 8px; margin: 12px 18px 18px; display: flex; }
  form input { flex: 1; min-width: 0; border: 0; padding: 12px; font-size: 15px; border-radius: 8px; outline: none; }
  form button { border: 0; background: var(--green); color: #fff; padding: 0 16px; border-radius: 0 8px 8px 0; cursor: pointer; }

  /* The fleet panel */
  #fleet-pane { overflow-y: auto; padding: 10px 14px 18px; gap: 10px; font-size: 13px; }
  .controls { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; display: grid; gap: 6px; min-width: 0; }
  #fleet-clusters { display: grid; gap: 10px; }
  .controls h3 { margin: 0; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  .controls .row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
  .controls .row > * { min-width: 0; }
  .controls .pair { white-space: nowrap; }
  .controls select { max-width: 100%; padding: 3px; font-size: 13px; }
  .controls select.wide { flex: 1 1 100%; width: 100%; }
  .controls button { padding: 3px 10px; font-size: 13px; cursor: pointer; }
  .muted { color: var(--muted); }
  #fleet-done:empty, #fault-list:empty { display: none; }
  .cluster { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
  .cluster-head { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; margin-bottom: 4px; }
  .pill { border: 1px solid #ccc; border-radius: 10px; padding: 0 7px; font-size: 11px; color: var(--muted); }
  .kv { display: grid; grid-template-columns: 92px minmax(0, 1fr); gap: 6px; }
  .kv > span:first-child { color: var(--muted); }
  .state { font-weight: 700; font-size: 12px; }
  .state.ok { color: var(--green); } .state.busy { color: var(--amber); } .state.bad { color: var(--red); } .state.off { color: var(--muted); }
  .ns { border-top: 1px solid #f0f0f0; margin-top: 6px; padding-top: 4px; }
  .ns-head { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; }
  .pods { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 3px; }
  .pod { border: 1px solid #ddd; border-radius: 4px; padding: 0 5px; font-size: 12px; background: #fafafa; overflow-wrap: anywhere; }
  .pod.proxied { border-color: #9fd3bf; background: #eef8f3; }
  .pod.pending { border-style: dashed; color: var(--muted); }
  .pod small { color: var(--muted); }
  #fleet-pane code { white-space: nowrap; }

  @media (max-width: 760px) {
    body { grid-template-columns: minmax(0, 1fr); grid-template-rows: auto auto minmax(0, 1fr); }
    nav { padding: 8px 12px; display: flex; align-items: center; gap: 12px; overflow: visible; }
    nav h1 { margin: 0; font-size: 16px; }
    nav .channel, nav p { display: none; }
    nav label { margin: 0 0 0 auto; display: flex; gap: 6px; align-items: center; white-space: nowrap; }
    nav select { width: auto; margin: 0; }
    aside { display: contents; }
    .tabs { grid-row: 2; }
    .tabs .phone-only { display: block; }
    .tabs button.on-side { color: var(--muted); border-bottom-color: transparent; }
    .tabs button.on-view { color: #1d1c1d; border-bottom-color: var(--link); }
    main, .pane { grid-row: 3; }
    main header { display: none; }
    main, body.side-thread #thread-pane, body.side-fleet #fleet-pane { display: none; }
    body.view-channel main, body.view-thread #thread-pane, body.view-fleet #fleet-pane { display: flex; }
    .msg { padding: 8px 12px; }
    form { margin: 8px 12px 12px; }
  }
`;
