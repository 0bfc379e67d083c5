import {
  GoogleApiError,
  errorInfo,
  invalidArgument,
  notFound,
  parseJsonBody,
  projectPermissionDenied,
} from './google.js';
import { ok, param, Router, type SimRequest } from './http.js';
import { uuid } from './ids.js';
import type { JsonObject } from './json.js';
import { OperationStore } from './operations.js';
import { defaultServices, type SimProject, type SimWorld } from './world.js';

const servicePattern = /^[a-z0-9][a-z0-9.-]*\.googleapis\.com$/;

function serviceResource(project: SimProject, service: string): JsonObject {
  return {
    name: `projects/${project.number}/services/${service}`,
    parent: `projects/${project.number}`,
    config: { name: service, title: service },
    state: project.services.has(service) ? 'ENABLED' : 'DISABLED',
  };
}

function requireService(service: string): string {
  if (!servicePattern.test(service)) {
    throw new GoogleApiError(
      403,
      'PERMISSION_DENIED',
      `Not found or permission denied for service(s): ${service}.`,
      [errorInfo('SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED', { services: service })],
    );
  }
  return service;
}

function requireProjectOf(world: SimWorld, req: SimRequest): SimProject {
  const project = world.project(param(req, 'project'));
  if (!project) throw projectPermissionDenied(param(req, 'project'), 'serviceusage.googleapis.com');
  return project;
}

function resolve(world: SimWorld, req: SimRequest): { project: SimProject; service: string } {
  return { project: requireProjectOf(world, req), service: requireService(param(req, 'service')) };
}

/** At most this many services per batchGet (30) and batchEnable (20), as Service Usage allows. */
const BATCH_GET_LIMIT = 30;
const BATCH_ENABLE_LIMIT = 20;

export function serviceUsageRouter(world: SimWorld): Router {
  const operations = new OperationStore(world.clock);

  // Enabling is quick in the sim: the operation is done when it is returned.
  const change = (req: SimRequest, enable: boolean): JsonObject => {
    const { project, service } = resolve(world, req);
    world.setService(project.id, service, enable);
    const id = `acat.p2-${project.number}-${uuid()}`;
    const now = world.clock.now();
    const responseType = enable ? 'EnableServiceResponse' : 'DisableServiceResponse';
    return operations.add({
      id,
      name: `operations/${id}`,
      doneAt: now,
      metadata: () => ({
        '@type': 'type.googleapis.com/google.api.serviceusage.v1.OperationMetadata',
        resourceNames: [`services/${service}/projectSettings/${project.number}`],
      }),
      response: () => ({
        '@type': `type.googleapis.com/google.api.serviceusage.v1.${responseType}`,
        service: { ...serviceResource(project, service), ...(enable ? {} : { state: 'DISABLED' }) },
      }),
    });
  };

  // `names=projects/P/services/S`, repeated; each must name this request's project (ID or number).
  const batchGet = (req: SimRequest): JsonObject => {
    const project = requireProjectOf(world, req);
    const names = req.query.getAll('names');
    if (names.length === 0 || names.length > BATCH_GET_LIMIT) {
      throw invalidArgument(`names must list 1 to ${BATCH_GET_LIMIT} services, got ${names.length}.`);
    }
    const services = names.map((name) => {
      const match = /^projects\/([^/]+)\/services\/([^/]+)$/.exec(name);
      if (!match || world.project(match[1] ?? '') !== project) {
        throw invalidArgument(
          `Invalid name ${name}: expected projects/${param(req, 'project')}/services/SERVICE.`,
        );
      }
      return serviceResource(project, requireService(match[2] ?? ''));
    });
    return { services };
  };

  // Enables every service of `serviceIds` at once (or none: one unknown fails the whole batch).
  const batchEnable = (req: SimRequest): JsonObject => {
    const project = requireProjectOf(world, req);
    const ids = parseJsonBody(req).serviceIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > BATCH_ENABLE_LIMIT) {
      throw invalidArgument(`serviceIds must list 1 to ${BATCH_ENABLE_LIMIT} services.`);
    }
    const services = ids.map((id) => requireService(typeof id === 'string' ? id : JSON.stringify(id)));
    const id = `acat.p2-${project.number}-${uuid()}`;
    const now = world.clock.now();
    const doneAt = now + world.timings.serviceEnable;
    // The services are on once the operation is done, not before.
    world.enableServicesAt(project, services, doneAt);
    return operations.add({
      id,
      name: `operations/${id}`,
      doneAt,
      metadata: () => ({
        '@type': 'type.googleapis.com/google.api.serviceusage.v1.OperationMetadata',
        resourceNames: services.map((service) => `services/${service}/projectSettings/${project.number}`),
      }),
      response: () => ({
        '@type': 'type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse',
        services: services.map((service) => serviceResource(project, service)),
      }),
    });
  };

  const list = (req: SimRequest): JsonObject => {
    const project = world.project(param(req, 'project'));
    if (!project) throw projectPermissionDenied(param(req, 'project'), 'serviceusage.googleapis.com');
    const filter = req.query.get('filter') ?? '';
    const names = [...new Set([...defaultServices, ...project.services])].sort();
    const wanted = filter.replace(/\s/g, '');
    const services = names
      .filter(
        (service) =>
          wanted === '' || wanted === `state:${project.services.has(service) ? 'ENABLED' : 'DISABLED'}`,
      )
      .map((service) => serviceResource(project, service));
    return services.length > 0 ? { services } : {};
  };

  const getOperation = (req: SimRequest): JsonObject => {
    const operation = operations.get(param(req, 'operation'));
    if (!operation) throw notFound(`Operation operations/${param(req, 'operation')} not found.`);
    return operations.render(operation);
  };

  return new Router()
    .add('GET', '/v1/projects/{project}/services', (req) => ok(list(req)))
    .add('GET', '/v1/projects/{project}/services:batchGet', (req) => ok(batchGet(req)))
    .add('POST', '/v1/projects/{project}/services:batchEnable', (req) => ok(batchEnable(req)))
    .add('GET', '/v1/projects/{project}/services/{service}', (req) => {
      const { project, service } = resolve(world, req);
      return ok(serviceResource(project, service));
    })
    .add('POST', '/v1/projects/{project}/services/{service}:enable', (req) => ok(change(req, true)))
    .add('POST', '/v1/projects/{project}/services/{service}:disable', (req) => ok(change(req, false)))
    .add('GET', '/v1/operations/{operation}', (req) => ok(getOperation(req)));
}
