/**
 * ftplib's `ftpcp`: copies a file from one server to another without it passing through this
 * machine (FXP). The source listens (PASV), the target connects to it (PORT); RFC 959 has the
 * target's STOR sent before the source's RETR. Servers that check that a data connection comes
 * from their client's address (the default of most) refuse FXP between different hosts: that
 * check stays with them.
 */
import { ErrorProto, buildPortArgument, parse227, replyIs } from "@ftplib/protocol";
import type { FTP } from "./ftp.js";
import { checkSendable } from "./options.js";

/**
 * Copies `sourcename` from one server to another without the data passing here (FXP), as ftplib's `ftpcp`:
 * PASV on `target`, PORT with its address on `source`, then STOR and RETR.
 *
 * @group The ftplib API
 */
export async function ftpcp(source: FTP, sourcename: string, target: FTP, targetname = "", type = "I"): Promise<void> {
  if (targetname === "") targetname = sourcename;
  // Names that cannot be sent are refused before either server gets a command.
  checkSendable(source.encoding, [`TYPE ${type}`], [sourcename]);
  checkSendable(target.encoding, [`TYPE ${type}`], [targetname]);
  await source.voidCmd(`TYPE ${type}`);
  await target.voidCmd(`TYPE ${type}`);
  const [host, port] = parse227(await source.sendCmd("PASV"));
  await target.voidCmd(`PORT ${buildPortArgument(host, port)}`);
  const treply = await target.sendCmd(`STOR ${targetname}`);
  if (!replyIs(treply, 125, 150)) throw new ErrorProto(treply, { code: "ERR_FTP_FXP" });
  const sreply = await source.sendCmd(`RETR ${sourcename}`);
  if (!replyIs(sreply, 125, 150)) throw new ErrorProto(sreply, { code: "ERR_FTP_FXP" });
  await source.voidResp();
  await target.voidResp();
}
