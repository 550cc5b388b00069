/**
 * SMTP TLS Reporting (RFC 8460). For now only the registered result types ({@link
 * dev.optls.policy.rpt.TlsRptResult}) that DANE and MTA-STS failures map to; record discovery, aggregation and
 * report delivery come later.
 */
package dev.optls.policy.rpt;
