/** Internals of the policy fetch: the WebPKI trust manager and the bounded response reader. Not API. */
package dev.optls.policy.sts.internal;
