// axle's control page. It talks only to the robot that served it, through
// the official Viam TypeScript SDK over grpc-web, under a session of its own:
// when this tab dies, its heartbeats stop and the robot stops what it drove.
//
// Drive controls send motion only while held: pointerup, pointerleave,
// pointercancel, window blur and a hidden tab all stop what this page drove.

import * as VIAM from '@viamrobotics/sdk';

type Name = { name: string; subtype: string; type: string; namespace: string };

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const el = (tag: string, attrs: Record<string, string> = {}, ...kids: (Node | string)[]) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};

// axle.v1.SessionService (proto/axle/v1/sessions.proto): which session
// last drove each actuator. Not in the Viam API, so not in the SDK: its
// messages are made with the protobuf runtime the SDK bundles (importing
// @bufbuild/protobuf again would ship a second copy).
const proto3 = VIAM.robotApi.GetSessionsRequest.runtime;
const UNARY = 0; // MethodKind.Unary
const LastUser = proto3.makeMessageType('axle.v1.LastUser', [
  { no: 1, name: 'resource', kind: 'scalar', T: 9 },
  { no: 2, name: 'session', kind: 'scalar', T: 9 },
  { no: 3, name: 'peer', kind: 'scalar', T: 9 },
]);
const SessionService = {
  typeName: 'axle.v1.SessionService',
  methods: {
    getLastUsers: {
      name: 'GetLastUsers',
      I: proto3.makeMessageType('axle.v1.GetLastUsersRequest', []),
      O: proto3.makeMessageType('axle.v1.GetLastUsersResponse', [
        { no: 1, name: 'last_users', kind: 'message', T: LastUser, repeated: true },
      ]),
      kind: UNARY,
    },
  },
} as const;

// The heartbeat the page's watchdog sends (the SDK's RobotService client is
// private to RobotClient).
const RobotService = {
  typeName: 'viam.robot.v1.RobotService',
  methods: {
    sendSessionHeartbeat: {
      name: 'SendSessionHeartbeat',
      I: VIAM.robotApi.SendSessionHeartbeatRequest,
      O: VIAM.robotApi.SendSessionHeartbeatResponse,
      kind: UNARY,
    },
  },
} as const;

let client: VIAM.RobotClient | undefined;
let sessionID: string | undefined;
let connected = false;
/** What this page set moving: stopped together on release, blur, hide. */
const driving = new Map<string, () => Promise<void>>();
const pollers: number[] = [];

function say(text: string, kind: 'ok' | 'bad' = 'ok') {
  const s = $('#state');
  s.textContent = text;
  s.className = kind;
}

async function stopDriven(why: string) {
  const stops = [...driving.values()];
  driving.clear();
  await Promise.allSettled(stops.map((s) => s()));
  if (stops.length) console.debug(`stopped ${stops.length} for ${why}`);
}

/** The SDK dials grpc-web directly only to a URL that says "local" (its
 * guard against dialing the cloud without WebRTC), so at 127.0.0.1, a LAN
 * address or a host name it refuses. The robot that served this page is at
 * the page's own origin whatever its address: the dot segment says "local",
 * and the browser's URL parser removes it, so every call goes to
 * location.origin. */
function directHost() {
  return location.origin.includes('local') ? location.origin : `${location.origin}/local/..`;
}

async function dial(credentials?: VIAM.Credential) {
  const c = new VIAM.RobotClient();
  // A direct grpc-web dial: createRobotClient succeeds only over WebRTC.
  await c.dial({ host: directHost(), credentials, noReconnect: false, dialTimeout: 5000 });
  return c;
}

/** The SDK starts a session only for a monitored call; start it now, so a
 * dead tab stops what it drove, and send it with TriggerEvent too. */
async function startSession(c: VIAM.RobotClient) {
  const manager = (c as any).sessionManager;
  const cls = manager?.constructor;
  if (cls?.heartbeatMonitoredMethods) {
    cls.heartbeatMonitoredMethods['/viam.component.inputcontroller.v1.InputControllerService/TriggerEvent'] = true;
  }
  await manager?.getSessionMetadata();
  return manager?.sessionID as string | undefined;
}

async function connect(credentials?: VIAM.Credential) {
  say('connecting…');
  try {
    client = await dial(credentials);
    // grpc-web has no connection to refuse: the first call tells.
    await client.resourceNames();
  } catch (e) {
    client = undefined;
    const text = String((e as Error)?.message ?? e);
    // The SDK wraps the robot's answer ("unauthenticated") in its own
    // "Failed to connect via all methods": offer the form either way.
    $('#login').hidden = false;
    if (credentials) {
      say(`login refused: the robot did not accept this key (${text})`, 'bad');
    } else {
      say(`cannot connect (${text}); if this robot needs an API key, enter it`, 'bad');
    }
    return;
  }
  $('#login').hidden = true;
  connected = true;
  const sid = await startSession(client).catch(() => undefined);
  showSession(sid);
  say('connected');
  await render(client);
  watchdog(client);
}

function showSession(sid: string | undefined) {
  sessionID = sid;
  $('#session').textContent = sid ? `session ${sid}` : 'no session';
}

function lost(why: string) {
  if (!connected) return;
  connected = false;
  driving.clear();
  document.body.classList.add('lost');
  say(`connection lost (${why}): controls are off until it is back`, 'bad');
}

/** Asks the robot about this page's session about four times per
 * heartbeat window: a robot that stopped answering shows as lost at once,
 * not when the SDK gives up; a robot that answers but no longer knows the
 * session has restarted, so the page starts a new session, rebuilds its
 * cards and says so. */
function watchdog(c: VIAM.RobotClient) {
  const robot = c.createServiceClient(RobotService as any) as any;
  const every = () => Math.max(100, ((c as any).sessionManager?.heartbeatIntervalMs ?? 400) * 5 / 4);
  const check = async () => {
    try {
      await robot.sendSessionHeartbeat({ id: sessionID ?? '' }, { timeoutMs: 2000 });
      if (!connected) {
        connected = true;
        document.body.classList.remove('lost');
        say('connected');
      }
    } catch (e) {
      const code = (e as any)?.code;
      // INVALID_ARGUMENT "SESSION_EXPIRED" or NOT_FOUND: a robot that
      // answers but has never heard of this session.
      if (code === 3 || code === 5) await renew(c).catch((e2) => lost(String(e2)));
      else lost(String((e as Error)?.message ?? e));
    }
    window.setTimeout(check, every());
  };
  window.setTimeout(check, every());
}

async function renew(c: VIAM.RobotClient) {
  const manager = (c as any).sessionManager;
  manager.reset();
  manager.currentSessionID = '';
  const sid = await startSession(c).catch(() => undefined);
  showSession(sid);
  connected = true;
  document.body.classList.remove('lost');
  for (const id of pollers.splice(0)) window.clearInterval(id);
  await render(c);
  say(sid ? 'the robot restarted: new session started' : 'the robot restarted; no session', sid ? 'ok' : 'bad');
}

async function render(c: VIAM.RobotClient) {
  const names = ((await c.resourceNames()) as Name[]).filter((n) => n.namespace === 'rdk');
  // Which gRPC service serves each API: a card without a builder of its own
  // sends DoCommand there.
  const services = new Map((await c.resourceRPCSubtypes().catch(() => []))
    .map((s) => [`${s.subtype?.namespace}:${s.subtype?.type}:${s.subtype?.subtype}`, s.protoService]));
  names.sort((a, b) => a.subtype.localeCompare(b.subtype) || a.name.localeCompare(b.name));
  const list = $('#resources');
  list.replaceChildren();
  for (const n of names) {
    const full = `${n.namespace}:${n.type}:${n.subtype}/${n.name}`;
    const card = el('section', { class: 'card', 'data-name': n.name, 'data-kind': n.subtype, 'data-full': full },
      el('h2', {}, n.name, el('small', {}, ` ${n.type}:${n.subtype}`)));
    const body = el('div', { class: 'body' });
    card.append(body, el('div', { class: 'said' }));
    list.append(card);
    const builder = BUILDERS[n.subtype];
    if (builder) builder(c, n.name, body);
    else commandCard(c, n.name, body, services.get(`${n.namespace}:${n.type}:${n.subtype}`));
    // Here from the start: a line appearing later would shift the layout
    // under a held button, and the pointer leaving it stops the motion.
    if (ACTUATORS.has(n.subtype)) card.append(el('div', { class: 'driver' }, '…'));
  }
  $('#count').textContent = `${names.length} resources`;
  showDrivers(c);
}

/** Every actuator card says which session drives it: the one whose end
 * stops it. */
function showDrivers(c: VIAM.RobotClient) {
  const sessions = c.createServiceClient(SessionService as any) as any;
  poll(500, async () => {
    const { lastUsers } = await sessions.getLastUsers({});
    const by = new Map<string, { session: string; peer: string }>(
      lastUsers.map((u: any) => [u.resource, u]));
    for (const card of document.querySelectorAll<HTMLElement>('.card')) {
      const line = card.querySelector<HTMLElement>('.driver');
      if (!line) continue;
      const u = by.get(card.dataset.full ?? '');
      line.dataset.session = u?.session ?? '';
      line.textContent = !u ? 'no session drives it'
        : u.session === sessionID ? 'driven by this page\'s session'
        : `driven by session ${u.session.slice(0, 8)}… from ${u.peer}`;
    }
  });
}

/** The kinds a session can drive, and so stop. */
const ACTUATORS = new Set(['arm', 'base', 'gantry', 'gripper', 'motor', 'servo', 'switch', 'button']);

type Builder = (c: VIAM.RobotClient, name: string, body: HTMLElement) => void;

const BUILDERS: Record<string, Builder> = {
  motor: motorCard,
  base: baseCard,
  sensor: readingsCard,
  movement_sensor: movementCard,
  power_sensor: powerCard,
  camera: cameraCard,
  input_controller: controllerCard,
  arm: armCard,
  servo: servoCard,
  gripper: gripperCard,
  gantry: gantryCard,
  button: buttonCard,
  switch: switchCard,
  encoder: encoderCard,
  data_manager: dataCard,
};

/** Runs `f` now and every `every` ms while connected and visible; an error
 * shows in `out`, the card's state line, until a later run succeeds. */
function poll(every: number, f: () => Promise<void>, out?: HTMLElement) {
  let busy = false;
  const run = async () => {
    if (busy || !connected || document.hidden) return;
    busy = true;
    try {
      await f();
      out?.classList.remove('error');
    } catch (e) {
      if (out && connected) failed(out, e);
    } finally { busy = false; }
  };
  void run();
  pollers.push(window.setInterval(run, every));
}

function failed(out: HTMLElement, e: unknown) {
  out.textContent = `error: ${String((e as Error)?.message ?? e)}`;
  out.classList.add('error');
}

/** A button whose action's error shows in its card's `.said` line, which
 * polling does not overwrite; success clears it. */
function action(label: string, name: string, f: () => Promise<unknown>, cls = '') {
  const b = button(label, { 'data-action': name, ...(cls ? { class: cls } : {}) });
  b.onclick = () => {
    const said = b.closest('.card')?.querySelector<HTMLElement>('.said');
    f().then(() => { if (said?.classList.contains('error')) said.replaceChildren(); said?.classList.remove('error'); },
      (e) => { if (said) failed(said, e); });
  };
  return b;
}

function stateLine() {
  return el('div', { class: 'state' }, '…');
}

function numbers(text: string) {
  return text.split(/[ ,]+/).filter(Boolean).map(Number);
}

const fixed = (xs: readonly number[], digits = 1) => xs.map((x) => x.toFixed(digits)).join(', ');

function button(label: string, attrs: Record<string, string> = {}) {
  return el('button', { type: 'button', ...attrs }, label) as HTMLButtonElement;
}

/** A control that drives while held and stops on every way of letting go. */
function hold(b: HTMLElement, key: string, start: () => Promise<void>, stop: () => Promise<void>) {
  const release = () => {
    if (!driving.has(key)) return;
    driving.delete(key);
    b.classList.remove('held');
    void stop();
  };
  // No pointer capture: moving off the button must count as letting go.
  b.addEventListener('pointerdown', () => {
    if (!connected) return;
    b.classList.add('held');
    driving.set(key, stop);
    void start();
  });
  for (const ev of ['pointerup', 'pointerleave', 'pointercancel']) {
    b.addEventListener(ev, release);
  }
}

function motorCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const m = new VIAM.MotorClient(c, name);
  const state = el('div', { class: 'state' }, '…');
  const power = el('input', { type: 'range', min: '-100', max: '100', value: '50', 'aria-label': 'power %' }) as HTMLInputElement;
  const hold_ = button('hold to run', { class: 'drive', 'data-action': 'hold' });
  hold(hold_, `motor/${name}`, () => m.setPower(Number(power.value) / 100), () => m.stop());
  const goFor = button('go for 1 rev', { 'data-action': 'go-for' });
  goFor.onclick = () => { driving.set(`motor/${name}`, () => m.stop()); void m.goFor(60, 1); };
  const stop = button('stop', { class: 'stop', 'data-action': 'stop' });
  stop.onclick = () => { driving.delete(`motor/${name}`); void m.stop(); };
  body.append(el('label', {}, 'power ', power), hold_, goFor, stop, state);
  poll(500, async () => {
    const [pos, moving] = await Promise.all([m.getPosition(), m.isMoving()]);
    state.textContent = `position ${pos.toFixed(2)} rev · ${moving ? 'moving' : 'still'}`;
    state.dataset.moving = String(moving);
  }, state);
}

const DIRECTIONS: Record<string, [number, number, string]> = {
  forward: [0.6, 0, '↑'], back: [-0.6, 0, '↓'], left: [0, 0.6, '←'], right: [0, -0.6, '→'],
};
const KEYS: Record<string, string> = {
  w: 'forward', ArrowUp: 'forward', s: 'back', ArrowDown: 'back', a: 'left', ArrowLeft: 'left', d: 'right', ArrowRight: 'right',
};

function baseCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const b = new VIAM.BaseClient(c, name);
  const key = `base/${name}`;
  const drive = (lin: number, ang: number) => b.setPower({ x: 0, y: lin, z: 0 }, { x: 0, y: 0, z: ang });
  const stop = () => b.stop();
  const pad = el('div', { class: 'pad' });
  for (const [dir, [lin, ang, arrow]] of Object.entries(DIRECTIONS)) {
    const btn = button(arrow, { class: `drive ${dir}`, 'data-action': dir, 'aria-label': dir });
    hold(btn, key, () => drive(lin, ang), stop);
    pad.append(btn);
  }
  const halt = button('stop', { class: 'stop', 'data-action': 'stop' });
  halt.onclick = () => { driving.delete(key); void stop(); };
  body.append(pad, joystick(key, drive, stop), halt, el('p', { class: 'hint' }, 'hold, or WASD / arrow keys'));
  const down = new Set<string>();
  window.addEventListener('keydown', (e) => {
    const dir = KEYS[e.key];
    if (!dir || !connected || down.has(dir)) return;
    down.add(dir);
    driving.set(key, stop);
    const [lin, ang] = DIRECTIONS[dir];
    void drive(lin, ang);
  });
  window.addEventListener('keyup', (e) => {
    const dir = KEYS[e.key];
    if (!dir) return;
    down.delete(dir);
    if (down.size === 0 && driving.delete(key)) void stop();
  });
}

/** An on-screen stick: drag to drive, let go to stop. */
function joystick(key: string, drive: (l: number, a: number) => Promise<void>, stop: () => Promise<void>) {
  const area = el('div', { class: 'stick', 'aria-label': 'joystick' });
  const knob = el('div', { class: 'knob' });
  area.append(knob);
  let last = 0;
  const move = (e: PointerEvent) => {
    if (!driving.has(key)) return;
    const r = area.getBoundingClientRect();
    const x = Math.max(-1, Math.min(1, ((e.clientX - r.left) / r.width) * 2 - 1));
    const y = Math.max(-1, Math.min(1, ((e.clientY - r.top) / r.height) * 2 - 1));
    knob.style.transform = `translate(${x * 40}px, ${y * 40}px)`;
    const now = performance.now();
    if (now - last > 50) { last = now; void drive(-y, -x); }
  };
  area.addEventListener('pointerdown', (e) => {
    if (!connected) return;
    area.setPointerCapture(e.pointerId);
    driving.set(key, stop);
    move(e);
  });
  area.addEventListener('pointermove', move);
  const release = () => {
    knob.style.transform = '';
    if (driving.delete(key)) void stop();
  };
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) area.addEventListener(ev, release);
  return area;
}

function readingsCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const s = new VIAM.SensorClient(c, name);
  const out = el('pre', { class: 'readings' }, '…');
  body.append(out);
  poll(1000, async () => { out.textContent = JSON.stringify(await s.getReadings(), null, 1); }, out);
}

function cameraCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const cam = new VIAM.CameraClient(c, name);
  const img = el('img', { alt: `${name} image` }) as HTMLImageElement;
  const state = el('div', { class: 'state' }, '…');
  body.append(img, state);
  poll(500, async () => {
    const { images } = await cam.getImages();
    const first = images[0];
    if (!first) return;
    const url = URL.createObjectURL(new Blob([first.image as BlobPart], { type: first.mimeType || 'image/jpeg' }));
    const old = img.src;
    img.src = url;
    if (old.startsWith('blob:')) URL.revokeObjectURL(old);
    state.textContent = `${first.sourceName || name} · ${first.mimeType}`;
  }, state);
}

function armCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const arm = new VIAM.ArmClient(c, name);
  const state = stateLine();
  const joints = el('input', { 'aria-label': 'joint degrees', size: '14' }) as HTMLInputElement;
  const move = action('move joints', 'move', () => {
    driving.set(`arm/${name}`, () => arm.stop());
    return arm.moveToJointPositions(numbers(joints.value));
  });
  body.append(joints, move, action('stop', 'stop', () => arm.stop(), 'stop'), state);
  poll(500, async () => {
    const [j, pose] = await Promise.all([arm.getJointPositions(), arm.getEndPosition()]);
    if (!joints.value) joints.value = fixed(j.values, 0);
    state.textContent = `joints ${fixed(j.values)}° · pose x ${pose.x.toFixed(0)} y ${pose.y.toFixed(0)} z ${pose.z.toFixed(0)} mm`;
  }, state);
}

function servoCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const servo = new VIAM.ServoClient(c, name);
  const state = stateLine();
  const angle = el('input', { type: 'range', min: '0', max: '180', value: '90', 'aria-label': 'angle' }) as HTMLInputElement;
  const move = action('move', 'move', () => {
    driving.set(`servo/${name}`, () => servo.stop());
    return servo.move(Number(angle.value));
  });
  body.append(el('label', {}, 'angle ', angle), move, action('stop', 'stop', () => servo.stop(), 'stop'), state);
  poll(500, async () => { state.textContent = `angle ${(await servo.getPosition()).toFixed(0)}°`; }, state);
}

function gripperCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const g = new VIAM.GripperClient(c, name);
  const state = stateLine();
  const drive = (f: () => Promise<void>) => () => { driving.set(`gripper/${name}`, () => g.stop()); return f(); };
  body.append(
    action('open', 'open', drive(() => g.open())),
    action('grab', 'grab', drive(() => g.grab())),
    action('stop', 'stop', () => g.stop(), 'stop'), state);
  poll(500, async () => { state.textContent = (await g.isMoving()) ? 'moving' : 'still'; }, state);
}

function gantryCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const g = new VIAM.GantryClient(c, name);
  const state = stateLine();
  const to = el('input', { 'aria-label': 'positions mm', size: '14', value: '100, 200, 50' }) as HTMLInputElement;
  const move = action('move', 'move', () => {
    driving.set(`gantry/${name}`, () => g.stop());
    const at = numbers(to.value);
    return g.moveToPosition(at, []);
  });
  body.append(to, move, action('home', 'home', () => g.home()),
    action('stop', 'stop', () => g.stop(), 'stop'), state);
  poll(500, async () => {
    const [at, lengths] = await Promise.all([g.getPosition(), g.getLengths()]);
    state.textContent = `at ${fixed(at, 0)} of ${fixed(lengths, 0)} mm`;
  }, state);
}

function buttonCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const b = new VIAM.ButtonClient(c, name);
  const state = el('div', { class: 'state' }, 'not pushed from this page');
  let pushes = 0;
  body.append(action('push', 'push', async () => {
    await b.push();
    state.textContent = `pushed ${++pushes}× from this page`;
  }), state);
}

function switchCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const sw = new VIAM.SwitchClient(c, name);
  const state = stateLine();
  const choices = el('div', { class: 'choices' });
  body.append(choices, state);
  sw.getNumberOfPositions().then(([count, labels]) => {
    for (let i = 0; i < count; i++) {
      choices.append(action(labels[i] || `position ${i}`, `set-${i}`, () => sw.setPosition(i)));
    }
  }, (e) => failed(state, e));
  poll(500, async () => { state.textContent = `at position ${await sw.getPosition()}`; }, state);
}

function encoderCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const enc = new VIAM.EncoderClient(c, name);
  const state = stateLine();
  body.append(action('reset', 'reset', () => enc.resetPosition()), state);
  poll(500, async () => { state.textContent = `${(await enc.getPosition())[0].toFixed(1)} ticks`; }, state);
}

function movementCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const ms = new VIAM.MovementSensorClient(c, name);
  const state = stateLine();
  body.append(state);
  poll(1000, async () => {
    const [at, v, o] = await Promise.all([ms.getPosition(), ms.getLinearVelocity(), ms.getOrientation()]);
    const p = at.coordinate;
    state.textContent = `lat ${p?.latitude.toFixed(5)} lng ${p?.longitude.toFixed(5)} · `
      + `velocity ${fixed([v.x, v.y, v.z], 2)} m/s · orientation θ ${o.theta.toFixed(0)}°`;
  }, state);
}

function powerCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const ps = new VIAM.PowerSensorClient(c, name);
  const state = stateLine();
  body.append(state);
  poll(1000, async () => {
    const [[volts, ac], [amps], watts] = await Promise.all([ps.getVoltage(), ps.getCurrent(), ps.getPower()]);
    state.textContent = `${volts.toFixed(2)} V ${ac ? 'AC' : 'DC'} · ${amps.toFixed(2)} A · ${watts.toFixed(2)} W`;
  }, state);
}

function dataCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const dm = new VIAM.DataManagerClient(c, name);
  const state = stateLine();
  const synced = el('div', { class: 'state' });
  const sync = action('sync now', 'sync', async () => {
    await dm.sync();
    synced.textContent = `synced at ${new Date().toLocaleTimeString()}`;
  });
  body.append(sync, state, synced);
  poll(1000, async () => {
    const answer = (await dm.doCommand(VIAM.Struct.fromJson({ status: true }))) as any;
    const st = answer.status ?? {};
    const refused = (st.sync?.refused_captures ?? []).length;
    state.textContent = `capture: ${(st.collectors ?? []).length} methods${refused ? `, ${refused} refused` : ''} · `
      + `sync ${st.sync?.state} · ${st.sync?.pending_files ?? 0} files pending`
      + (st.sync?.last_error ? ` · ${st.sync.last_error}` : '');
  }, state);
}

/** Any other API (generic, remote control, a module's): its DoCommand, on
 * the service the robot says serves that API. */
function commandCard(c: VIAM.RobotClient, name: string, body: HTMLElement, service = 'viam.service.generic.v1.GenericService') {
  const api = c.createServiceClient({
    typeName: service,
    methods: {
      doCommand: { name: 'DoCommand', I: VIAM.commonApi.DoCommandRequest, O: VIAM.commonApi.DoCommandResponse, kind: UNARY },
    },
  } as any) as any;
  const state = el('div', { class: 'state' }, 'DoCommand: send a JSON object');
  const input = el('input', { 'aria-label': 'command', size: '18', value: '{}' }) as HTMLInputElement;
  body.append(input, action('send', 'send', async () => {
    const command = VIAM.Struct.fromJson(JSON.parse(input.value));
    const { result } = await api.doCommand({ name, command });
    state.textContent = `answered ${JSON.stringify(result?.toJson() ?? {})}`;
  }), state);
}

// StreamEvents and GetControls are not in the SDK's InputControllerClient: call them with the
// SDK's generated messages through the client's own transport.
const InputControllerService = {
  typeName: 'viam.component.inputcontroller.v1.InputControllerService',
  methods: {
    streamEvents: {
      name: 'StreamEvents',
      I: VIAM.inputControllerApi.StreamEventsRequest,
      O: VIAM.inputControllerApi.StreamEventsResponse,
      kind: 1, // MethodKind.ServerStreaming
    },
    getControls: {
      name: 'GetControls',
      I: VIAM.inputControllerApi.GetControlsRequest,
      O: VIAM.inputControllerApi.GetControlsResponse,
      kind: UNARY,
    },
  },
} as const;
const EVENT_TYPES = ['ButtonPress', 'ButtonRelease', 'ButtonHold', 'ButtonChange', 'PositionChangeAbs',
  'PositionChangeRel', 'Connect', 'Disconnect'];

/** The controller's events as they happen (StreamEvents over grpc-web),
 * newest first; the stream is re-opened while the page is connected. */
function controllerCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const ic = c.createServiceClient(InputControllerService as any) as any;
  const out = el('ul', { class: 'events' });
  body.append(out);
  const listen = async () => {
    const { controls } = await ic.getControls({ controller: name });
    const request = { controller: name, events: controls.map((control: string) => ({ control, events: EVENT_TYPES })) };
    for await (const { event: e } of ic.streamEvents(request)) {
      if (!e) continue;
      out.prepend(el('li', {}, `${e.control} ${e.event} ${e.value.toFixed(2)}`));
      while (out.children.length > 8) out.lastChild?.remove();
    }
  };
  const keep = async () => {
    for (;;) {
      if (connected) await listen().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void keep();
}

function wire() {
  $('#stop-all').onclick = async () => {
    driving.clear();
    await client?.stopAll();
    say('stopped all');
  };
  ($('#login') as HTMLFormElement).onsubmit = (e) => {
    e.preventDefault();
    const id = ($('#key-id') as HTMLInputElement).value.trim();
    const key = ($('#key') as HTMLInputElement).value;
    void connect({ type: 'api-key', authEntity: id, payload: key } as VIAM.Credential);
  };
  window.addEventListener('blur', () => void stopDriven('window blur'));
  document.addEventListener('visibilitychange', () => { if (document.hidden) void stopDriven('tab hidden'); });
  window.addEventListener('pagehide', () => void stopDriven('page closed'));
}

wire();
void connect();
