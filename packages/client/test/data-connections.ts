/** Tests' views of the data connections under the client: nodeTransport with each one wrapped. */
import type { ByteStream, ControlStream, Transport } from "@ftplib/protocol";
import { nodeTransport } from "@ftplib/transport";

/** `target` with the members of `overrides` in place of its own; the others pass through. */
export function overriding<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(object, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof T];
      const value: unknown = Reflect.get(object, key);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/** nodeTransport, each passive data connection passed through `wrap` as it connects. */
export function wrappingDataConnections(wrap: (conn: ByteStream) => ByteStream): Transport {
  return {
    async connect(request) {
      const stream = await nodeTransport.connect(request as Parameters<typeof nodeTransport.connect>[0]);
      return overriding<ControlStream>(stream, {
        connectData: async (r: Parameters<ControlStream["connectData"]>[0]) => wrap(await stream.connectData(r)),
      });
    },
  };
}
