package dev.optls.policy.dkim;

/** The DKIM signing algorithms optls signs with. */
public enum DkimAlgorithm {
    /** RFC 6376 §3.3.1 (RFC 8301: the only RSA algorithm still allowed). */
    RSA_SHA256("rsa-sha256", "rsa", "SHA256withRSA"),
    /** RFC 8463 §3: Ed25519 over the SHA-256 hash. */
    ED25519_SHA256("ed25519-sha256", "ed25519", "Ed25519");

    private final String tagValue;
    private final String keyType;
    private final String jcaName;

    DkimAlgorithm(String tagValue, String keyType, String jcaName) {
        this.tagValue = tagValue;
        this.keyType = keyType;
        this.jcaName = jcaName;
    }

    /** The {@code a=} value of the signature. */
    public String tagValue() {
        return tagValue;
    }

    /** The {@code k=} value of the key record. */
    public String keyType() {
        return keyType;
    }

    String jcaName() {
        return jcaName;
    }
}
