package dev.optls.core;

/**
 * A client command that a server negotiation hands to the application because it is not part of the
 * upgrade.
 *
 * @param tag the IMAP tag, or an empty string for untagged protocols
 * @param verb the command name, upper-cased ({@code MAIL}, {@code LOGIN}, {@code USER})
 * @param arguments the rest of the line after the verb, without the CRLF
 * @param line the whole command line as received, without the CRLF
 * @param tlsActive whether the command arrived over TLS
 */
public record Command(String tag, String verb, String arguments, String line, boolean tlsActive) {}
