/** What ftp-srv does its own way (see the suite's quirks): REST + STOR truncates, a passive data
 * connection closed by the client stalls the session, replies after ABOR come out of order. */
export const FTP_SRV_QUIRKS = { restStorTruncates: true, passiveAbortHangs: true, abortRepliesOutOfOrder: true };
