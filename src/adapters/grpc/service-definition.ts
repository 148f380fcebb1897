/**
 * Bridges protobuf-es v2 descriptors to @grpc/grpc-js (toolchain.md §3). No maintained adapter
 * exists, so this file builds the grpc-js `ServiceDefinition` from a `DescService` and types
 * server handler maps from the generated descriptor: a missing or mistyped handler is a compile
 * error, as with connect-es `ServiceImpl<Desc>`.
 */
import type * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { SchedulerError, abbreviate } from "../../domain/errors.js";
import type { FieldViolation } from "../../domain/errors.js";
import { BODY_FIELD, checkWire } from "./wire-check.js";

/** The methods of a service descriptor, keyed by their local (lowerCamelCase) name. */
export type MethodsOf<S extends DescService> = S["method"];

type In<M extends DescMethod> = MessageShape<M["input"]>;
/** Handlers may answer with plain init objects; the serializer runs `create()` on them. */
type Out<M extends DescMethod> = MessageInitShape<M["output"]>;

/** The grpc-js handler type for one method, chosen by its kind. */
export type HandlerFor<M extends DescMethod> = M["methodKind"] extends "unary"
  ? grpc.handleUnaryCall<In<M>, Out<M>>
  : M["methodKind"] extends "server_streaming"
    ? grpc.handleServerStreamingCall<In<M>, Out<M>>
    : M["methodKind"] extends "client_streaming"
      ? grpc.handleClientStreamingCall<In<M>, Out<M>>
      : grpc.handleBidiStreamingCall<In<M>, Out<M>>;

/** A complete handler map for service `S`, e.g. `ServiceImpl<typeof MultiServiceAdmin>`. */
export type ServiceImpl<S extends DescService> = {
  [K in keyof MethodsOf<S>]: HandlerFor<MethodsOf<S>[K]>;
};

/**
 * The bytes of frozen messages. A message streamed to many calls (an uninstall event to every
 * watcher) is encoded once, not once per call; grpc-js copies the bytes into each frame.
 */
const encodedFrozen = new WeakMap<object, Buffer>();

/**
 * Serializes a message or a message init object. grpc-js calls `Buffer#copy` on the result, so
 * a bare Uint8Array fails every call with 13 INTERNAL "Failed to write message": wrap the same
 * memory in a Buffer (no copy). A frozen value cannot change, so its bytes are kept with it.
 */
export function serializer<Desc extends DescMessage>(
  schema: Desc,
): (value: MessageInitShape<Desc>) => Buffer {
  const encode = (value: MessageInitShape<Desc>): Buffer => {
    const u8 = toBinary(schema, create(schema, value));
    return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  };
  return (value) => {
    if (!Object.isFrozen(value)) return encode(value);
    let bytes = encodedFrozen.get(value);
    if (bytes === undefined) {
      bytes = encode(value);
      encodedFrozen.set(value, bytes);
    }
    return bytes;
  };
}

/** Parses one wire message; a malformed message throws, which grpc-js reports as INTERNAL. */
export function deserializer<Desc extends DescMessage>(
  schema: Desc,
): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => fromBinary(schema, bytes);
}

/**
 * What the request deserializer hands a handler instead of a message when the body is not one:
 * grpc-js answers a throwing deserializer with INTERNAL "Error deserializing request", so the
 * deserializer returns this marker and the handler wrappers (`parsedRequest`) answer
 * INVALID_ARGUMENT naming the field before doing anything.
 */
export class MalformedRequest {
  constructor(
    readonly typeName: string,
    readonly violation: FieldViolation,
  ) {}

  toError(): SchedulerError {
    const { field, reason } = this.violation;
    return new SchedulerError("invalid_argument", `request body is not a valid ${this.typeName}: ${field}: ${reason}`, {
      violations: [this.violation],
    });
  }
}

/**
 * Parses one request strictly (`checkWire`: wrong wire types of known fields, invalid UTF-8,
 * truncation … are refused, as other protobuf runtimes refuse or read them differently); a body
 * that fails gives a MalformedRequest instead of throwing.
 */
export function requestDeserializer<Desc extends DescMessage>(
  schema: Desc,
): (bytes: Buffer) => MessageShape<Desc> | MalformedRequest {
  return (bytes) => {
    const problem = checkWire(schema, bytes);
    if (problem !== undefined) return new MalformedRequest(schema.typeName, problem);
    try {
      return fromBinary(schema, bytes);
    } catch (err) {
      const reason = abbreviate(err instanceof Error ? err.message : String(err), 256);
      return new MalformedRequest(schema.typeName, { field: BODY_FIELD, reason });
    }
  };
}

/** The request a handler may use; throws the INVALID_ARGUMENT of a MalformedRequest. */
export function parsedRequest<T>(request: T | MalformedRequest): T {
  if (request instanceof MalformedRequest) throw request.toError();
  return request;
}

/** The grpc-js definition of one method: path `/${service.typeName}/${method.name}`. */
export function toMethodDefinition(
  method: DescMethod,
): grpc.MethodDefinition<MessageInitShape<DescMessage>, MessageInitShape<DescMessage>> {
  const kind = method.methodKind;
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    originalName: method.name,
    requestStream: kind === "client_streaming" || kind === "bidi_streaming",
    responseStream: kind === "server_streaming" || kind === "bidi_streaming",
    requestSerialize: serializer(method.input),
    // A MalformedRequest stands in for the message; `parsedRequest` turns it into INVALID_ARGUMENT.
    requestDeserialize: requestDeserializer(method.input) as (bytes: Buffer) => MessageInitShape<DescMessage>,
    responseSerialize: serializer(method.output),
    responseDeserialize: deserializer(method.output),
  };
}

/** The grpc-js `ServiceDefinition` of `desc`, keyed by method local name. */
export function toGrpcServiceDefinition(desc: DescService): grpc.ServiceDefinition {
  const def: Record<string, ReturnType<typeof toMethodDefinition>> = {};
  for (const m of desc.methods) def[m.localName] = toMethodDefinition(m);
  return def;
}

/** `server.addService` with a handler map checked against the descriptor. */
export function addService<S extends DescService>(
  server: grpc.Server,
  desc: S,
  impl: ServiceImpl<S>,
): void {
  server.addService(toGrpcServiceDefinition(desc), impl as grpc.UntypedServiceImplementation);
}
