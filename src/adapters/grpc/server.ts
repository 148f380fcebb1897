/**
 * The gRPC edge of one Corral scheduler: corral.v1.MultiServiceAdmin, grpc.health.v1.Health and
 * server reflection (v1 + v1alpha) on one grpc-js server; plaintext or mutual TLS, with an optional
 * bearer token on MultiServiceAdmin (see auth.ts).
 */
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger as PinoLogger } from "pino";
import { MultiServiceAdmin } from "../../../gen/corral/v1/admin_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import type { AdminApi, SecretsAccess } from "../../engine/admin-api.js";
import { createAdminHandlers } from "./admin-handlers.js";
import type { CallObserver } from "./call-observer.js";
import { bearerTokenInterceptor, hostOf, listenProblem, serverCredentials } from "./auth.js";
import type { ApiSecurity, ServerTls } from "./auth.js";
import { addReflection } from "./reflection.js";
import { addService } from "./service-definition.js";

export interface AdminServerOptions extends ApiSecurity {
  readonly api: AdminApi;
  readonly logger: PinoLogger;
  /** Where PutSecret, ListSecrets and DeleteSecret go; absent, they answer UNIMPLEMENTED. */
  readonly secrets?: SecretsAccess;
  /**
   * Largest request accepted, in bytes (grpc.max_receive_message_length); larger requests fail
   * with RESOURCE_EXHAUSTED before reaching a handler.
   * @default 1048576 (1 MiB)
   */
  readonly maxReceiveMessageBytes?: number;
  /** Watches every admin RPC (metrics, tracing); see call-observer.ts. */
  readonly observer?: CallObserver;
}

/** Services whose health is reported; "" is the whole server. */
const HEALTH_SERVICES = ["", MultiServiceAdmin.typeName] as const;

/**
 * Lifecycle: construct → `listen()` → (`setServing()` as readiness changes) → `stop()`.
 * Health starts as SERVING; `stop()` flips it to NOT_SERVING before draining.
 */
export class AdminServer {
  readonly #server: grpc.Server;
  readonly #health: HealthImplementation;
  readonly #logger: PinoLogger;
  readonly #authToken: boolean;
  readonly #tls: ServerTls | undefined;
  #stopped = false;

  constructor(options: AdminServerOptions) {
    this.#logger = options.logger.child({ component: "grpc" });
    this.#authToken = options.authToken !== undefined;
    this.#tls = options.tls;
    const guarded = [`/${MultiServiceAdmin.typeName}/`];
    this.#server = new grpc.Server({
      "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? 1024 * 1024,
      interceptors:
        options.authToken === undefined ? [] : [bearerTokenInterceptor(options.authToken, guarded, this.#logger)],
    });
    this.#health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "SERVING"])));
    addService(this.#server, MultiServiceAdmin, createAdminHandlers(options.api, this.#logger, options.secrets, options.observer));
    this.#health.addToServer(this.#server);
    addReflection(this.#server, [MultiServiceAdmin, Health]);
  }

  /**
   * Binds `address` ("host:port"; port 0 picks a free port), with mutual TLS when `tls` was
   * given, and starts serving. Resolves with the host as given and the port actually bound.
   * Rejects a non-loopback address when neither a token nor TLS protects the API.
   */
  async listen(address: string): Promise<{ host: string; port: number }> {
    const problem = listenProblem(address, this.#authToken, this.#tls !== undefined);
    if (problem !== undefined) throw new Error(problem);
    const port = await new Promise<number>((resolve, reject) => {
      this.#server.bindAsync(address, serverCredentials(this.#tls), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });
    const host = hostOf(address);
    const auth = [this.#authToken ? "bearer-token" : [], this.#tls ? "mutual-tls" : []].flat();
    this.#logger.info({ host, port, auth }, "grpc server listening");
    return { host, port };
  }

  /** Reports SERVING / NOT_SERVING for "" and corral.v1.MultiServiceAdmin. */
  setServing(serving: boolean): void {
    for (const service of HEALTH_SERVICES) {
      this.#health.setStatus(service, serving ? "SERVING" : "NOT_SERVING");
    }
  }

  /**
   * A standby of a replicated scheduler: the process is alive ("" SERVING) but does not lead,
   * so MultiServiceAdmin is NOT_SERVING (a load balancer sends admin calls to the leader only).
   */
  setStandby(): void {
    if (this.#stopped) return;
    this.#health.setStatus("", "SERVING");
    this.#health.setStatus(MultiServiceAdmin.typeName, "NOT_SERVING");
  }

  /**
   * Stops accepting calls, lets running calls finish for up to `graceMs`, then cancels the rest
   * (open streams see their signal abort). Idempotent.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.setServing(false);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#logger.warn({ graceMs }, "grpc graceful shutdown timed out; cancelling open calls");
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#logger.info("grpc server stopped");
  }
}
