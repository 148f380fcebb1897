import { describe, expect, it } from "vitest";
import { TASK, expectViolation, indent, specText as spec } from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";

const P = "spec.pods.hello";
const pod = (extra: string) => parseServiceSpec(spec({ pod: extra }));
const podSpec = (extra: string) => pod(extra).spec.pods[0]!;

describe("pod keys of §4.2: accepted values", () => {
  it("uris: http(s), file and absolute paths", () => {
    const uris = ["http://a/b.tgz", "https://a/b", "file:///opt/x.zip", "/opt/run.sh"];
    expect(podSpec(`uris: [${uris.join(", ")}]`).uris).toEqual(uris);
  });

  it("image, pre-reserved-role, share-pid-namespace, seccomp, ipc-mode and shm-size", () => {
    const p = podSpec("image: ubuntu:18.04\npre-reserved-role: slave_public/x\nshare-pid-namespace: yes\nseccomp-profile-name: p.json\nipc-mode: private\nshm-size: 64");
    expect(p).toMatchObject({ image: "ubuntu:18.04", preReservedRole: "slave_public/x", sharePidNamespace: true, seccomp: { unconfined: false, profileName: "p.json" }, ipcMode: "PRIVATE", shmSizeMb: 64 });
  });

  it("shm-size with SHARE_PARENT is dropped with a warning (the pod's /dev/shm is shared; Mesos refuses a size there)", () => {
    const parsed = pod("ipc-mode: SHARE_PARENT\nshm-size: 64");
    expect(parsed.spec.pods[0]!.shmSizeMb).toBeUndefined();
    expect(parsed.warnings).toEqual([{ field: `${P}.shm-size`, message: expect.stringMatching(/^ignored: with ipc-mode SHARE_PARENT/) }]);
  });

  it("pre-reserved-role '*' is the reference's default: none", () => {
    expect(podSpec("pre-reserved-role: '*'").preReservedRole).toBeUndefined();
  });

  it("networks with CSV labels, and a network written with no body", () => {
    const p = podSpec('networks:\n  dcos:\n    host-ports: [80, 443]\n    container-ports: [8080, 8443]\n    labels: "k0:v0,k1:v1"\n  other:');
    expect(p.networks).toEqual([
      { name: "dcos", hostPorts: [80, 443], containerPorts: [8080, 8443], labels: { k0: "v0", k1: "v1" } },
      { name: "other", hostPorts: [], containerPorts: [], labels: {} },
    ]);
  });

  it("rlimits with both limits, or neither (unlimited)", () => {
    expect(podSpec("rlimits:\n  RLIMIT_NOFILE: {soft: 1024, hard: 4096}\n  RLIMIT_CORE:").rlimits).toEqual([
      { name: "RLIMIT_NOFILE", soft: 1024, hard: 4096 },
      { name: "RLIMIT_CORE" },
    ]);
  });

  it("secrets as env, as file, and with neither at the secret's own path (as the reference)", () => {
    const p = podSpec("secrets:\n  s1: {secret: app/s1, env-key: S1, file: conf/s1}\n  s2: {secret: app/s2}");
    expect(p.secrets).toEqual([
      { key: "s1", secret: "app/s1", envKey: "S1", file: "conf/s1" },
      { key: "s2", secret: "app/s2", file: "app/s2" },
    ]);
  });

  it("host-volumes, mode RW by default", () => {
    expect(podSpec("host-volumes:\n  etc: {host-path: /etc, container-path: etc}\n  ro: {host-path: /usr, container-path: usr, mode: RO}").hostVolumes).toEqual([
      { key: "etc", hostPath: "/etc", containerPath: "etc", mode: "RW" },
      { key: "ro", hostPath: "/usr", containerPath: "usr", mode: "RO" },
    ]);
  });

  it("pod volume and volumes", () => {
    expect(podSpec("volume: {path: shared, type: ROOT, size: 10}").volumes).toEqual([{ path: "shared", type: "ROOT", sizeMb: 10 }]);
    expect(podSpec("volumes: {a: {path: a, type: MOUNT, size: 5}}").volumes).toEqual([{ path: "a", type: "MOUNT", sizeMb: 5 }]);
  });

  it("external-volumes: one warning saying what happens instead", () => {
    const parsed = pod("external-volumes:\n  v: {type: DOCKER, container-path: x, driver-name: d}");
    expect(parsed.warnings).toEqual([{ field: `${P}.external-volumes`, message: "external (Docker volume driver) volumes are not supported by Corral; the tasks start without them" }]);
  });

  it("absent or empty keys leave the pod as before", () => {
    const p = podSpec("uris: []\nsecrets: {}\nseccomp-unconfined: false");
    expect(p.uris).toBeUndefined();
    expect(p.secrets).toBeUndefined();
    expect(p.seccomp).toEqual({ unconfined: false });
    expect(podSpec("").image).toBeUndefined();
  });
});

describe("pod keys of §4.2: violations name the field and the reason", () => {
  it.each([
    { name: "ftp uri", extra: "uris: [ftp://x/y]", field: `${P}.uris[0]`, reason: /must be an http:\/\/, https:\/\/ or file:\/\/ URI or an absolute path/ },
    { name: "relative uri", extra: "uris: [x.tgz]", field: `${P}.uris[0]`, reason: /absolute path/ },
    { name: "uris as a string", extra: "uris: http://x", field: `${P}.uris`, reason: /must be a list/ },
    { name: "unknown rlimit", extra: "rlimits: {RLIMIT_FOO: {soft: 1, hard: 1}}", field: `${P}.rlimits.RLIMIT_FOO`, reason: /unknown rlimit 'RLIMIT_FOO'; valid: RLIMIT_AS, .*RLIMIT_STACK$/ },
    { name: "soft above hard", extra: "rlimits: {RLIMIT_NOFILE: {soft: 10, hard: 5}}", field: `${P}.rlimits.RLIMIT_NOFILE.soft`, reason: /^soft 10 is above hard 5$/ },
    { name: "soft alone", extra: "rlimits: {RLIMIT_NOFILE: {soft: 10}}", field: `${P}.rlimits.RLIMIT_NOFILE`, reason: /both soft and hard, or neither/ },
    { name: "negative rlimit", extra: "rlimits: {RLIMIT_NOFILE: {soft: -1, hard: 5}}", field: `${P}.rlimits.RLIMIT_NOFILE.soft`, reason: /at least 0/ },
    { name: "secret missing", extra: "secrets: {s: {env-key: S}}", field: `${P}.secrets.s.secret`, reason: /is required/ },
    { name: "secret name with ..", extra: "secrets: {s: {secret: a/../b, env-key: S}}", field: `${P}.secrets.s.secret`, reason: /segments of letters/ },
    { name: "secret file absolute", extra: "secrets: {s: {secret: a, file: /etc/x}}", field: `${P}.secrets.s.file`, reason: /relative to the task sandbox/ },
    { name: "secret file with ..", extra: "secrets: {s: {secret: a, file: x/../../y}}", field: `${P}.secrets.s.file`, reason: /without '\.\.'/ },
    { name: "secret env-key", extra: "secrets: {s: {secret: a, env-key: 1X}}", field: `${P}.secrets.s.env-key`, reason: /not a valid environment variable name/ },
    { name: "two secrets, one env-key", extra: "secrets: {s: {secret: a, env-key: X}, t: {secret: b, env-key: X}}", field: `${P}.secrets.t.env-key`, reason: /already used/ },
    { name: "host-path relative", extra: "host-volumes: {h: {host-path: etc, container-path: etc}}", field: `${P}.host-volumes.h.host-path`, reason: /absolute path/ },
    { name: "container-path absolute", extra: "host-volumes: {h: {host-path: /etc, container-path: /etc}}", field: `${P}.host-volumes.h.container-path`, reason: /relative/ },
    { name: "host volume mode", extra: "host-volumes: {h: {host-path: /etc, container-path: etc, mode: RX}}", field: `${P}.host-volumes.h.mode`, reason: /one of RW, RO/ },
    { name: "role ending in /", extra: "pre-reserved-role: a/", field: `${P}.pre-reserved-role`, reason: /not a Mesos role/ },
    { name: "role starting with /", extra: "pre-reserved-role: /a", field: `${P}.pre-reserved-role`, reason: /not a Mesos role/ },
    { name: "role with ..", extra: "pre-reserved-role: a/../b", field: `${P}.pre-reserved-role`, reason: /not a Mesos role/ },
    { name: "both seccomp keys", extra: "seccomp-unconfined: true\nseccomp-profile-name: p", field: `${P}.seccomp-profile-name`, reason: /^cannot specify seccomp-unconfined and seccomp-profile-name at the same time$/ },
    { name: "seccomp-unconfined not a bool", extra: "seccomp-unconfined: maybe", field: `${P}.seccomp-unconfined`, reason: /true or false/ },
    { name: "ipc-mode", extra: "ipc-mode: HOST", field: `${P}.ipc-mode`, reason: /one of PRIVATE, SHARE_PARENT/ },
    { name: "shm-size fraction", extra: "shm-size: 1.5", field: `${P}.shm-size`, reason: /integer/ },
    { name: "network ports mismatch", extra: "networks: {dcos: {host-ports: [80], container-ports: []}}", field: `${P}.networks.dcos`, reason: /same number of ports/ },
    { name: "network port out of range", extra: "networks: {dcos: {host-ports: [70000], container-ports: [1]}}", field: `${P}.networks.dcos.host-ports[0]`, reason: /at most 65535/ },
    { name: "network labels", extra: "networks: {dcos: {labels: 'a:b,c'}}", field: `${P}.networks.dcos.labels`, reason: /illegal label 'c': each entry is key:value/ },
    { name: "pod volume on a task volume's path", extra: "volume: {path: data, type: ROOT, size: 1}", field: `${P}.volume`, reason: /path data is also a volume path of spec\.pods\.hello\.tasks\.server/ },
  ])("$name", ({ extra, field, reason }) => {
    const text = extra.startsWith("volume:")
      ? spec({ pod: extra, tasks: `server:\n${indent(`${TASK}\nvolume: {path: data, type: ROOT, size: 1}`, 2)}` })
      : spec({ pod: extra });
    expectViolation(text, field, reason);
  });
});

describe("pod mounts share the sandbox's paths", () => {
  it.each([
    { name: "host volume on a task volume", extra: "host-volumes: {h: {host-path: /etc, container-path: data}}", field: `${P}.host-volumes.h.container-path`, reason: /^path data is already used by a volume of spec\.pods\.hello\.tasks\.server$/ },
    { name: "secret file on a host volume", extra: "host-volumes: {h: {host-path: /etc, container-path: etc}}\nsecrets: {s: {secret: a, file: etc}}", field: `${P}.secrets.s.file`, reason: /already used by spec\.pods\.hello\.host-volumes\.h\.container-path/ },
    { name: "host volume on a pod volume", extra: "volume: {path: shared, type: ROOT, size: 1}\nhost-volumes: {h: {host-path: /etc, container-path: shared}}", field: `${P}.host-volumes.h.container-path`, reason: /already used by a pod volume/ },
  ])("$name", ({ extra, field, reason }) => {
    expectViolation(spec({ pod: extra, tasks: `server:\n${indent(`${TASK}\nvolume: {path: data, type: ROOT, size: 1}`, 2)}` }), field, reason);
  });
});
