//! The client side: the MySQL protocol server. [`codec`] frames packets, [`packets`] and
//! [`rows`] encode and decode them, [`auth`] checks passwords, and [`session`] runs one client
//! connection's command loop. Nothing here knows about shards: statements go to [`crate::engine`].

pub mod auth;
pub mod codec;
pub mod packets;
pub mod rows;
pub mod session;
