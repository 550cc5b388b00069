/**
 * SMTP TLS Reporting (RFC 8460) for a sending MTA: the registered result types ({@link
 * dev.optls.policy.rpt.TlsRptResult}), the {@code _smtp._tls} TXT record ({@link dev.optls.policy.rpt.TlsRptRecord}),
 * per-day aggregation of sessions ({@link dev.optls.policy.rpt.TlsRptCollector}), the report JSON of RFC 8460 §4.4
 * ({@link dev.optls.policy.rpt.TlsRptJson}), file names and gzip ({@link dev.optls.policy.rpt.TlsRptFiles}),
 * delivery by HTTPS POST ({@link dev.optls.policy.rpt.HttpsReportSender}), the mail message ({@link
 * dev.optls.policy.rpt.TlsRptMail}), its DKIM-signed delivery through an SMTP relay ({@link
 * dev.optls.policy.rpt.MailReportSender}) and the daily schedule that sends the reports, with retries ({@link
 * dev.optls.policy.rpt.ReportSchedule}; mail through a {@link dev.optls.policy.rpt.MailReportDelivery}), which keeps
 * its counts and waiting reports across restarts in a {@link dev.optls.policy.rpt.TlsRptStore} (SQLite).
 */
package dev.optls.policy.rpt;
