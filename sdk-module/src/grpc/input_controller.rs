//! `viam.component.inputcontroller.v1.InputControllerService`.

use super::convert::{system_time, timestamp};
use crate::host::StreamFilter;

use super::Resources;
use crate::input::{CONTROLS, EVENT_TYPES};
use axle_proto::common;
use axle_proto::inputcontroller::input_controller_service_server::InputControllerService;
use axle_proto::inputcontroller::*;
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};
use tracing::warn;

/// Serves every input controller of the robot.
pub struct InputControllerApi<R>(pub Arc<R>);

type Reply<T> = Result<Response<T>, Status>;

fn to_proto(e: crate::Event) -> Event {
    Event {
        time: Some(timestamp(e.time)),
        event: e.event,
        control: e.control,
        value: e.value,
    }
}

/// An event from the wire.
pub fn from_proto(e: Event) -> crate::Event {
    crate::Event {
        time: system_time(e.time),
        event: e.event,
        control: e.control,
        value: e.value,
    }
}

/// Reads a subscription, refusing names clients could not decode.
fn filter_of(events: Vec<stream_events_request::Events>) -> Result<StreamFilter, Status> {
    let mut filter = StreamFilter::default();
    for e in events {
        if !CONTROLS.contains(&e.control.as_str()) {
            return Err(Status::invalid_argument(format!(
                "unknown control {:?}",
                e.control
            )));
        }
        if let Some(bad) = e
            .events
            .iter()
            .chain(&e.cancelled_events)
            .find(|t| !EVENT_TYPES.contains(&t.as_str()))
        {
            return Err(Status::invalid_argument(format!(
                "unknown event type {bad:?}"
            )));
        }
        filter.add(e.control, e.events, &e.cancelled_events);
    }
    Ok(filter)
}

#[tonic::async_trait]
impl<R: Resources> InputControllerService for InputControllerApi<R> {
    async fn get_controls(&self, req: Request<GetControlsRequest>) -> Reply<GetControlsResponse> {
        let controls = self
            .0
            .input_controller(&req.get_ref().controller)?
            .controls()
            .await?;
        Ok(Response::new(GetControlsResponse { controls }))
    }

    async fn get_events(&self, req: Request<GetEventsRequest>) -> Reply<GetEventsResponse> {
        let events = self
            .0
            .input_controller(&req.get_ref().controller)?
            .events()
            .await?;
        Ok(Response::new(GetEventsResponse {
            events: events.into_iter().map(to_proto).collect(),
        }))
    }

    type StreamEventsStream =
        Pin<Box<dyn Stream<Item = Result<StreamEventsResponse, Status>> + Send>>;

    async fn stream_events(
        &self,
        req: Request<StreamEventsRequest>,
    ) -> Reply<Self::StreamEventsStream> {
        let r = req.into_inner();
        let controller = self.0.input_controller(&r.controller)?;
        let filter = filter_of(r.events)?;
        let name = r.controller;
        let events = BroadcastStream::new(controller.subscribe()).filter_map(move |item| match item {
            Ok(p) if filter.wants(&p.event) => Some(Ok(StreamEventsResponse { event: Some(to_proto(p.event)) })),
            Ok(_) => None,
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                warn!(resource = %name, missed, "StreamEvents subscriber fell behind; events dropped");
                None
            }
        });
        Ok(Response::new(Box::pin(events)))
    }

    async fn trigger_event(
        &self,
        req: Request<TriggerEventRequest>,
    ) -> Reply<TriggerEventResponse> {
        let r = req.into_inner();
        let event = r
            .event
            .ok_or_else(|| Status::invalid_argument("TriggerEvent needs an event"))?;
        self.0
            .input_controller(&r.controller)?
            .trigger_event(from_proto(event))
            .await?;
        Ok(Response::new(TriggerEventResponse {}))
    }

    async fn do_command(
        &self,
        req: Request<common::DoCommandRequest>,
    ) -> Reply<common::DoCommandResponse> {
        let r = req.into_inner();
        let command = super::convert::from_struct(r.command);
        super::do_command_response(
            self.0
                .input_controller(&r.name)?
                .actor
                .do_command(command)
                .await?,
        )
    }

    async fn get_status(
        &self,
        req: Request<common::GetStatusRequest>,
    ) -> Reply<common::GetStatusResponse> {
        super::status_response(
            self.0
                .input_controller(&req.get_ref().name)?
                .actor
                .status()
                .await?,
        )
    }

    async fn get_geometries(
        &self,
        req: Request<common::GetGeometriesRequest>,
    ) -> Reply<common::GetGeometriesResponse> {
        self.0.input_controller(&req.get_ref().name)?;
        super::no_geometries()
    }
}
