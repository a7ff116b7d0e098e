//! Media in an S3-compatible bucket (`--media s3://bucket/prefix`), through the official AWS
//! SDK for Rust. With a bucket created with Object Lock, a protected conversation's objects
//! carry a legal hold: the bucket itself refuses to delete them, whoever asks.
//!
//! The SDK is async; the server calls media from its blocking pool and the command line from
//! plain threads, so this store runs its own small runtime and waits on it (`block`), and the
//! async calls (a download) are spawned on it and awaited from anywhere.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectLockEnabled, ObjectLockLegalHold, ObjectLockLegalHoldStatus};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::{MediaStore, Pending};
use crate::body::RespBody;

/// Legal-hold calls in flight at once: a protect of a thousand conversations sets thousands.
const HOLDS_AT_ONCE: usize = 64;

/// Where the bucket is and who is asking.
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    /// Keys are `{prefix}/{org}/{recording}...`; empty for the bucket's root.
    pub prefix: String,
    /// An S3-compatible server's URL (path-style addressing); `None` for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
    /// How long a call waits for the bucket to answer before it fails (and is retried).
    pub read_timeout: std::time::Duration,
}

/// How long a call waits for the bucket's answer by default.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl S3Settings {
    /// `s3://bucket/prefix`, the endpoint and region given (else `AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_DEFAULT_REGION`, then us-east-1), and the
    /// credentials of `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    pub fn from_url(
        url: &str,
        endpoint: Option<String>,
        region: Option<String>,
    ) -> Result<S3Settings, String> {
        let (bucket, prefix) = bucket_and_prefix(url)?;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let need = |name: &str| {
            env(name).ok_or_else(|| format!("S3 media needs the environment variable {name}"))
        };
        Ok(S3Settings {
            bucket,
            prefix,
            endpoint: endpoint
                .or_else(|| env("AWS_ENDPOINT_URL_S3"))
                .or_else(|| env("AWS_ENDPOINT_URL")),
            region: region
                .or_else(|| env("AWS_REGION"))
                .or_else(|| env("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".to_owned()),
            access_key: need("AWS_ACCESS_KEY_ID")?,
            secret_key: need("AWS_SECRET_ACCESS_KEY")?,
            session_token: env("AWS_SESSION_TOKEN"),
            read_timeout: READ_TIMEOUT,
        })
    }

    /// An SDK client for these settings (the tests use it to look at the bucket directly).
    pub fn client(&self) -> Client {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(Credentials::new(
                self.access_key.clone(),
                self.secret_key.clone(),
                self.session_token.clone(),
                None,
                "holdfast",
            ))
            .timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(5))
                    .read_timeout(self.read_timeout)
                    .build(),
            )
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .http_client(http);
        if let Some(endpoint) = &self.endpoint {
            conf = conf.endpoint_url(endpoint).force_path_style(true);
        }
        Client::from_conf(conf.build())
    }
}

/// The bucket and prefix of `s3://bucket/prefix` (the prefix without slashes at its ends). A
/// bucket name S3 would refuse is refused here, where the message can say why.
pub fn bucket_and_prefix(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("{url}: media is a directory or s3://bucket/prefix"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        return Err(format!(
            "{url}: '{bucket}' is not a bucket name (3 to 63 lowercase letters, digits, dots and \
             hyphens, starting and ending with a letter or digit): s3://bucket/prefix"
        ));
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

/// Objects in one bucket under one prefix.
pub struct S3Media {
    client: Client,
    bucket: String,
    /// `prefix/`, or empty.
    prefix: String,
    spool: PathBuf,
    /// The bucket has Object Lock: protection is mirrored as legal holds.
    holds: bool,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for S3Media {
    fn drop(&mut self) {
        // Dropped from async code too (a test's server); a runtime may not block there.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn failed(what: &str, e: impl std::error::Error) -> io::Error {
    io::Error::other(format!("{what}: {}", DisplayErrorContext(e)))
}

impl S3Media {
    /// Connects and checks the bucket: it must exist and be reachable; whether it has Object
    /// Lock decides whether holds are mirrored. New files are written in `spool` first.
    pub fn open(settings: &S3Settings, spool: PathBuf) -> Result<S3Media, String> {
        super::open_spool(&spool).map_err(|e| format!("creating {}: {e}", spool.display()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("holdfast-s3")
            .enable_all()
            .build()
            .map_err(|e| format!("starting the S3 runtime: {e}"))?;
        let mut media = S3Media {
            client: settings.client(),
            bucket: settings.bucket.clone(),
            prefix: match settings.prefix.as_str() {
                "" => String::new(),
                p => format!("{p}/"),
            },
            spool,
            holds: false,
            runtime: Some(runtime),
        };
        let (client, bucket) = (media.client.clone(), media.bucket.clone());
        media.holds = media
            .block(async move {
                client
                    .head_bucket()
                    .bucket(&bucket)
                    .send()
                    .await
                    .map_err(|e| failed(&format!("bucket {bucket}"), e))?;
                let lock = client
                    .get_object_lock_configuration()
                    .bucket(&bucket)
                    .send()
                    .await;
                Ok(match lock {
                    Ok(out) => {
                        out.object_lock_configuration()
                            .and_then(|c| c.object_lock_enabled())
                            == Some(&ObjectLockEnabled::Enabled)
                    }
                    // No configuration: a bucket without Object Lock.
                    Err(_) => false,
                })
            })
            .map_err(|e| e.to_string())?;
        Ok(media)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs `work` on this store's runtime and waits for it, from any thread.
    fn block<T: Send + 'static>(
        &self,
        work: impl Future<Output = io::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(io::Error::other("the S3 call ended without an answer")))
    }

    fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        if let Some(runtime) = &self.runtime {
            runtime.spawn(work);
        }
    }

    /// Runs `work` on this store's runtime, awaited from any runtime.
    async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = io::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| io::Error::other("the S3 runtime is stopped"))?;
        runtime.spawn(work).await.map_err(io::Error::other)?
    }
}

/// Sets or clears one object's legal hold (its newest version).
async fn set_hold(client: &Client, bucket: &str, key: &str, on: bool) -> io::Result<()> {
    let status = match on {
        true => ObjectLockLegalHoldStatus::On,
        false => ObjectLockLegalHoldStatus::Off,
    };
    client
        .put_object_legal_hold()
        .bucket(bucket)
        .key(key)
        .legal_hold(ObjectLockLegalHold::builder().status(status).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failed(&format!("legal hold of {key}"), e))
}

impl MediaStore for S3Media {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn spool_dir(&self) -> &Path {
        &self.spool
    }

    fn put(&self, key: &str, file: &Path, size: u64, sha256: &str) -> io::Result<()> {
        let (client, bucket, key, file) = (
            self.client.clone(),
            self.bucket.clone(),
            self.key(key),
            file.to_path_buf(),
        );
        // The bucket checks the bytes it got against the SHA-256 taken as they arrived here.
        let checksum = crate::auth::hex_decode(sha256)
            .filter(|b| b.len() == 32)
            .map(|b| crate::auth::base64_encode(&b));
        self.block(async move {
            let body = ByteStream::from_path(&file)
                .await
                .map_err(|e| io::Error::other(format!("reading {}: {e}", file.display())))?;
            client
                .put_object()
                .bucket(&bucket)
                .key(&key)
                .content_length(i64::try_from(size).unwrap_or(i64::MAX))
                .set_checksum_sha256(checksum)
                .body(body)
                .send()
                .await
                .map_err(|e| failed(&format!("storing {key}"), e))?;
            Ok(())
        })
    }

    fn remove(&self, key: &str) -> io::Result<()> {
        let (client, bucket, key, holds) = (
            self.client.clone(),
            self.bucket.clone(),
            self.key(key),
            self.holds,
        );
        self.block(async move {
            // Every version goes: a plain delete in a versioned bucket only hides the bytes.
            let listed = client
                .list_object_versions()
                .bucket(&bucket)
                .prefix(&key)
                .send()
                .await
                .map_err(|e| failed(&format!("listing {key}"), e))?;
            let versions = listed
                .versions()
                .iter()
                .filter(|v| v.key() == Some(key.as_str()))
                .map(|v| v.version_id().map(str::to_owned))
                .chain(
                    listed
                        .delete_markers()
                        .iter()
                        .filter(|m| m.key() == Some(key.as_str()))
                        .map(|m| m.version_id().map(str::to_owned)),
                );
            for version in versions.collect::<Vec<_>>() {
                if holds {
                    // Called only after the database committed the deletion: the conversation
                    // is not protected, so a hold left by a crash is lifted.
                    let _ = client
                        .put_object_legal_hold()
                        .bucket(&bucket)
                        .key(&key)
                        .set_version_id(version.clone())
                        .legal_hold(
                            ObjectLockLegalHold::builder()
                                .status(ObjectLockLegalHoldStatus::Off)
                                .build(),
                        )
                        .send()
                        .await;
                }
                client
                    .delete_object()
                    .bucket(&bucket)
                    .key(&key)
                    .set_version_id(version)
                    .send()
                    .await
                    .map_err(|e| failed(&format!("deleting {key}"), e))?;
            }
            Ok(())
        })
    }

    fn keeps_holds(&self) -> bool {
        self.holds
    }

    fn set_holds(&self, keys: &[String], on: bool) -> Vec<(String, io::Error)> {
        if !self.holds || keys.is_empty() {
            return Vec::new();
        }
        let (client, bucket) = (self.client.clone(), self.bucket.clone());
        let keys: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), self.key(k))).collect();
        let outcome = self.block(async move {
            let gate = Arc::new(tokio::sync::Semaphore::new(HOLDS_AT_ONCE));
            let mut calls = tokio::task::JoinSet::new();
            for (key, full) in keys {
                let (client, bucket, gate) = (client.clone(), bucket.clone(), gate.clone());
                calls.spawn(async move {
                    let _turn = gate.acquire_owned().await;
                    (key, set_hold(&client, &bucket, &full, on).await)
                });
            }
            let mut failures = Vec::new();
            while let Some(done) = calls.join_next().await {
                match done {
                    Ok((_, Ok(()))) => {}
                    Ok((key, Err(e))) => failures.push((key, e)),
                    Err(e) => failures.push((String::new(), io::Error::other(e))),
                }
            }
            Ok(failures)
        });
        outcome.unwrap_or_else(|e| vec![(String::new(), e)])
    }

    fn held(&self, key: &str) -> io::Result<bool> {
        if !self.holds {
            return Ok(false);
        }
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key(key));
        self.block(async move {
            match client
                .get_object_legal_hold()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
            {
                Ok(out) => Ok(out.legal_hold().and_then(|h| h.status())
                    == Some(&ObjectLockLegalHoldStatus::On)),
                Err(e) if e.code() == Some("NoSuchObjectLockConfiguration") => Ok(false),
                Err(e) => Err(failed(&format!("legal hold of {key}"), e)),
            }
        })
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let (client, bucket, prefix) = (
            self.client.clone(),
            self.bucket.clone(),
            self.prefix.clone(),
        );
        self.block(async move {
            let mut keys = Vec::new();
            let mut token = None;
            loop {
                let page = client
                    .list_objects_v2()
                    .bucket(&bucket)
                    .prefix(&prefix)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(|e| failed(&format!("listing {bucket}"), e))?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key()?.strip_prefix(prefix.as_str()))
                        .map(str::to_owned),
                );
                token = page.next_continuation_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            keys.sort();
            Ok(keys)
        })
    }

    fn hash(&self, key: &str) -> io::Result<(u64, String)> {
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key(key));
        self.block(async move {
            let out = match client.get_object().bucket(&bucket).key(&key).send().await {
                Ok(out) => out,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                    return Err(io::Error::new(io::ErrorKind::NotFound, key));
                }
                Err(e) => return Err(failed(&format!("reading {key}"), e)),
            };
            let mut body = out.body;
            let (mut size, mut digest) = (0u64, Sha256::new());
            while let Some(bytes) = body
                .try_next()
                .await
                .map_err(|e| io::Error::other(format!("reading {key}: {e}")))?
            {
                size += bytes.len() as u64;
                digest.update(&bytes);
            }
            Ok((size, crate::auth::hex(&digest.finalize())))
        })
    }

    fn size<'a>(&'a self, key: &'a str) -> Pending<'a, u64> {
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key(key));
        Box::pin(self.run(async move {
            match client.head_object().bucket(&bucket).key(&key).send().await {
                Ok(out) => Ok(out.content_length().unwrap_or(0).max(0) as u64),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                    Err(io::Error::new(io::ErrorKind::NotFound, key))
                }
                Err(e) => Err(failed(&format!("reading {key}"), e)),
            }
        }))
    }

    fn read<'a>(&'a self, key: &'a str, start: u64, len: u64) -> Pending<'a, RespBody> {
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key(key));
        Box::pin(async move {
            if len == 0 {
                return Ok(RespBody::empty());
            }
            let range = format!("bytes={start}-{}", start + len - 1);
            let out = self
                .run(async move {
                    client
                        .get_object()
                        .bucket(&bucket)
                        .key(&key)
                        .range(range)
                        .send()
                        .await
                        .map_err(|e| failed(&format!("reading {key}"), e))
                })
                .await?;
            // The SDK's body, a frame at a time as the client takes it.
            let body = out.body.into_inner().map_err(io::Error::other);
            Ok(RespBody::Stream(Box::pin(body)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::bucket_and_prefix;

    #[test]
    fn a_media_url_names_a_valid_bucket_and_a_prefix() {
        let ok = |url: &str| bucket_and_prefix(url).unwrap();
        assert_eq!(
            ok("s3://holdfast-media/prod/eu"),
            ("holdfast-media".to_owned(), "prod/eu".to_owned())
        );
        assert_eq!(
            ok("s3://holdfast-media"),
            ("holdfast-media".to_owned(), String::new())
        );
        assert_eq!(
            ok("s3://holdfast.media/prod/"),
            ("holdfast.media".to_owned(), "prod".to_owned())
        );
        for bad in [
            "s3:/holdfast-media",
            "holdfast-media",
            "s3://",
            "s3:///prefix",
            "s3://ab/x",
            "s3://Holdfast/x",
            "s3://-holdfast/x",
            "s3://holdfast_media/x",
        ] {
            assert!(bucket_and_prefix(bad).is_err(), "{bad} was taken");
        }
    }
}
