/**
 * The TLS policy service for Postfix's {@code smtp_tls_policy_maps} over the socketmap protocol (socketmap_table(5)):
 * {@link dev.optls.policy.postfix.Netstrings} framing, {@link dev.optls.policy.postfix.SocketmapServer} (blocking,
 * bounded), {@link dev.optls.policy.postfix.PolicyService} (keys, map names, the {@link
 * dev.optls.policy.postfix.AnswerCache}) and {@link dev.optls.policy.postfix.PostfixPolicy}, the translation of a
 * delivery plan into Postfix's levels ({@code dane-only}, {@code dane}, {@code secure match=…}, {@code encrypt}) —
 * DANE above MTA-STS — with Postfix 3.10's TLSRPT attributes on request.
 */
package dev.optls.policy.postfix;
