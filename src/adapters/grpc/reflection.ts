/**
 * gRPC server reflection (v1 and v1alpha) from protobuf-es's own embedded file descriptors
 * (toolchain.md §4, option A). Keeping the original file names and `dependency` lists matters:
 * strict clients (buf curl, grpcurl, python) reject schemas whose imports are missing.
 */
import type * as grpc from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** Every file that declares `services`, plus its transitive imports, each once. */
export function filesOf(services: readonly DescService[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (seen.has(file.proto.name)) return;
    seen.set(file.proto.name, file);
    file.dependencies.forEach(visit);
  };
  services.forEach((s) => visit(s.file));
  return [...seen.values()];
}

/**
 * A proto-loader-shaped package definition for @grpc/reflection. The library only reads
 * `fileDescriptorProtos` of each entry, so one entry per file suffices; the cast stands in for
 * the proto-loader fields (`type`, `serialize`, …) that it never touches.
 */
export function reflectionPackageDefinition(services: readonly DescService[]): PackageDefinition {
  const pkg: Record<string, { format: string; type: object; fileDescriptorProtos: Buffer[] }> = {};
  for (const file of filesOf(services)) {
    const bytes = toBinary(FileDescriptorProtoSchema, file.proto);
    pkg[file.proto.name] = {
      format: "Protocol Buffer 3 FileDescriptorProto",
      type: {},
      fileDescriptorProtos: [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)],
    };
  }
  return pkg as unknown as PackageDefinition;
}

/** Registers grpc.reflection.v1 and v1alpha describing `services` on `server`. */
export function addReflection(server: Pick<grpc.Server, "addService">, services: readonly DescService[]): void {
  new ReflectionService(reflectionPackageDefinition(services)).addToServer(server);
}
