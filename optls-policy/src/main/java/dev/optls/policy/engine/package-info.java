/**
 * The outbound policy engine: for a destination domain, which MX hosts to try and what to require of each (DANE
 * over MTA-STS over the local policy table, opportunistic TLS otherwise), with the TLS-RPT policy each session is
 * counted under.
 */
package dev.optls.policy.engine;
