/**
 * The SMTP client path that applies a {@link dev.optls.policy.engine.DeliveryPlan}: each usable MX host in order,
 * STARTTLS at the level its requirement needs, DANE matched before any byte goes over TLS, every session counted
 * for TLS-RPT (RFC 8460), and the first session that met its requirement handed over for the mail transaction.
 */
package dev.optls.policy.client;
