package dev.optls.core;

/** Where in the life of a connection something happened. */
public enum Phase {
    CONNECT,
    GREETING,
    CAPABILITIES,
    UPGRADE,
    HANDSHAKE,
    CAPABILITIES_AFTER_TLS,
    SESSION
}
